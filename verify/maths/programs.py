"""Straight-line mpmath programs as data: the code ``sympy.lambdify`` writes, kept and run without ``exec``.

A lambdified mpmath function is a short straight-line program: parameters (a tuple parameter is
unpacked), common subexpressions assigned to names, and one returned expression of arithmetic and
mpmath calls. :func:`program_of` parses its source (``ast``) into a JSON-able tree, and
:func:`compile_program` turns such a tree back into a Python function made of closures over
:mod:`operator` and mpmath, so nothing is ever compiled from text: a tree that holds anything but
the grammar below is refused, whoever wrote it.

Grammar of a program ``{"params": [P, ...], "steps": [[T, E], ...], "result": E}``: a parameter or
target ``P``/``T`` is a name or a list of names (tuple unpacking); an expression ``E`` is one of

``["name", n]``, ``["int", k]``, ``["float", x]``, ``["str", s]``
    a local name, an int literal, a float literal (JSON's shortest repr round-trips exactly), a
    string literal (as in ``mpf('0.1')``);
``["const", c]``
    an mpmath constant of :data:`CONSTANTS` (``pi``, ``e``, …);
``["+" | "-" | "*" | "/" | "**" | "//" | "%", E, E]``, ``["neg", E]``, ``["pos", E]``
    Python's arithmetic operators;
``["call", f, [E, ...]]``
    the mpmath function ``f`` of :data:`FUNCTIONS`, positional arguments only;
``["list", [E, ...]]``, ``["tuple", [E, ...]]``
    the returned vector;
``["if", E, E, E]``, ``["cmp", op, E, E]``, ``["and" | "or", [E, ...]]``, ``["not", E]``
    the conditional expressions a ``Piecewise`` prints as (``op`` one of ``< <= > >= == !=``).

Evaluation is the same Python arithmetic on the same mpmath numbers, in the same order, as the
lambdified code: a compiled program returns bit for bit what the function it came from returns.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any, Callable

import mpmath

#: The mpmath functions a program may call: elementary and special functions, no attribute access, no I/O.
FUNCTIONS = frozenset({
    "mpf", "mpc", "mpmathify", "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan", "atan2", "sinh",
    "cosh", "tanh", "sech", "csch", "coth", "asinh", "acosh", "atanh", "exp", "expm1", "log", "log1p", "log10", "sqrt",
    "cbrt", "root", "fabs", "sign", "floor", "ceil", "erf", "erfc", "gamma", "loggamma", "re", "im", "conj", "hypot",
})
#: The mpmath constants a program may name.
CONSTANTS = frozenset({"pi", "e", "euler", "inf", "nan", "j"})

_BINARY: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
                            ast.FloorDiv: "//", ast.Mod: "%"}
_BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
    "//": operator.floordiv, "%": operator.mod}
_UNARY_OPS: dict[str, Callable[[Any], Any]] = {"neg": operator.neg, "pos": operator.pos, "not": operator.not_}
_COMPARE: dict[type, str] = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_COMPARE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}

__all__ = ["CONSTANTS", "FUNCTIONS", "ProgramError", "compile_program", "program_of"]


class ProgramError(ValueError):
    """Code outside the grammar of a straight-line mpmath program (or a tree that is not one)."""


def _mpmath_attribute(globals_: dict[str, Any], name: str) -> str | None:
    """The mpmath attribute the global ``name`` of a lambdified function is bound to (None if it is none)."""
    if name not in globals_:
        return None
    value = globals_[name]
    if getattr(mpmath, name, None) is value:
        return name
    return next((a for a in dir(mpmath) if getattr(mpmath, a, None) is value), None)


def program_of(fn: Callable[..., Any]) -> dict[str, Any]:
    """The tree of the lambdified mpmath function ``fn`` (see the module's grammar).

    Raises
    ------
    ProgramError
        The source is unavailable or holds anything outside the grammar (then it cannot be kept as data).
    """
    import inspect

    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError) as exc:
        raise ProgramError(f"no source: {exc}") from None
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise ProgramError("not one function definition")
    fdef = tree.body[0]
    a = fdef.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults or fdef.decorator_list:
        raise ProgramError("only plain positional parameters")
    reader = _Reader(fn.__globals__)
    params: list[Any] = [reader.bind(p.arg) for p in a.args]
    steps: list[list[Any]] = []
    body = list(fdef.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        raise ProgramError("the function must end in a return of an expression")
    for stmt in body[:-1]:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            raise ProgramError(f"only assignments before the return, got {type(stmt).__name__}")
        value = reader.expr(stmt.value)
        steps.append([reader.target(stmt.targets[0]), value])
    return {"params": params, "steps": steps, "result": reader.expr(body[-1].value)}


class _Reader:
    """Python AST → program tree, resolving global names to mpmath functions and constants."""

    def __init__(self, globals_: dict[str, Any]) -> None:
        self.globals = globals_
        self.locals: set[str] = set()

    def attribute(self, name: str) -> str | None:
        return None if name in self.locals else _mpmath_attribute(self.globals, name)

    def bind(self, name: str) -> str:
        self.locals.add(name)
        return name

    def target(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.bind(node.id)
        if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Name) for e in node.elts):
            return [self.bind(e.id) for e in node.elts]  # type: ignore[attr-defined]
        raise ProgramError(f"unsupported assignment target {type(node).__name__}")

    def expr(self, node: ast.AST) -> list[Any]:
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return ["name", node.id]
            attr = self.attribute(node.id)
            if attr in CONSTANTS:
                return ["const", attr]
            raise ProgramError(f"unknown name {node.id!r}")
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise ProgramError(f"unsupported literal {v!r}")
            return [{int: "int", float: "float", str: "str"}[type(v)], v]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return [_BINARY[type(node.op)], self.expr(node.left), self.expr(node.right)]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            return [{ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not"}[type(node.op)], self.expr(node.operand)]
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ProgramError("only calls of mpmath functions by name, with positional arguments")
            attr = self.attribute(node.func.id)
            if attr not in FUNCTIONS:
                raise ProgramError(f"call of {node.func.id!r}, not an allowed mpmath function")
            return ["call", attr, [self.expr(a) for a in node.args]]
        if isinstance(node, (ast.List, ast.Tuple)):
            return ["list" if isinstance(node, ast.List) else "tuple", [self.expr(e) for e in node.elts]]
        if isinstance(node, ast.IfExp):
            return ["if", self.expr(node.test), self.expr(node.body), self.expr(node.orelse)]
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return ["cmp", _COMPARE[type(node.ops[0])], self.expr(node.left), self.expr(node.comparators[0])]
        if isinstance(node, ast.BoolOp):
            return ["and" if isinstance(node.op, ast.And) else "or", [self.expr(v) for v in node.values]]
        raise ProgramError(f"unsupported expression {type(node).__name__}")


_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")


def _name(x: Any) -> str:
    if not isinstance(x, str) or not _NAME.match(x):
        raise ProgramError(f"not a name: {x!r}")
    return x


def _names(x: Any) -> str | tuple[str, ...]:
    return tuple(_name(n) for n in x) if isinstance(x, list) else _name(x)


def _assign(env: dict[str, Any], target: str | tuple[str, ...], value: Any) -> None:
    if isinstance(target, str):
        env[target] = value
        return
    values = list(value)
    if len(values) != len(target):
        raise ValueError(f"cannot unpack {len(values)} values into {len(target)} names")
    env.update(zip(target, values))


def compile_program(program: Any) -> Callable[..., Any]:
    """The function a program tree computes, built from closures (no ``exec``, no ``eval``).

    Raises
    ------
    ProgramError
        ``program`` is not a tree of the module's grammar (an unknown node, function or constant, a
        malformed node): refused before anything runs.
    """
    if not isinstance(program, dict) or set(program) != {"params", "steps", "result"}:
        raise ProgramError("a program is {params, steps, result}")
    if not isinstance(program["params"], list) or not isinstance(program["steps"], list):
        raise ProgramError("params and steps must be lists")
    params = [_names(p) for p in program["params"]]
    steps = []
    for step in program["steps"]:
        if not (isinstance(step, list) and len(step) == 2):
            raise ProgramError("a step is [target, expression]")
        steps.append((_names(step[0]), _compile(step[1])))
    result = _compile(program["result"])

    def run(*args: Any) -> Any:
        if len(args) != len(params):
            raise TypeError(f"the program takes {len(params)} arguments, got {len(args)}")
        env: dict[str, Any] = {}
        for p, a in zip(params, args):
            _assign(env, p, a)
        for target, value in steps:
            _assign(env, target, value(env))
        return result(env)

    return run


def _compile(node: Any) -> Callable[[dict[str, Any]], Any]:
    """One expression node as a closure of the environment of local names."""
    if not (isinstance(node, list) and node and isinstance(node[0], str)):
        raise ProgramError(f"not an expression node: {node!r:.60}")
    tag, args = node[0], node[1:]

    def arity(n: int) -> None:
        if len(args) != n:
            raise ProgramError(f"{tag!r} takes {n} operand(s), got {len(args)}")

    if tag == "name":
        arity(1)
        name = _name(args[0])
        return lambda env: env[name]
    if tag in ("int", "float", "str"):
        arity(1)
        value = args[0]
        kind = {"int": int, "float": float, "str": str}[tag]
        if type(value) is not kind and not (tag == "float" and type(value) is int):
            raise ProgramError(f"{tag} literal {value!r:.40}")
        value = kind(value)
        return lambda env: value
    if tag == "const":
        arity(1)
        if args[0] not in CONSTANTS:
            raise ProgramError(f"unknown constant {args[0]!r:.40}")
        const = getattr(mpmath, args[0])
        return lambda env: const
    if tag in _BINARY_OPS:
        arity(2)
        op, left, right = _BINARY_OPS[tag], _compile(args[0]), _compile(args[1])
        return lambda env: op(left(env), right(env))
    if tag in ("neg", "pos", "not"):
        arity(1)
        unary = _UNARY_OPS[tag]
        operand = _compile(args[0])
        return lambda env: unary(operand(env))
    if tag == "call":
        arity(2)
        if args[0] not in FUNCTIONS or not isinstance(args[1], list):
            raise ProgramError(f"call of {args[0]!r:.40}, not an allowed mpmath function")
        fn, operands = getattr(mpmath, args[0]), [_compile(a) for a in args[1]]
        return lambda env: fn(*[a(env) for a in operands])
    if tag in ("list", "tuple"):
        arity(1)
        if not isinstance(args[0], list):
            raise ProgramError(f"{tag} of a non-list")
        items = [_compile(a) for a in args[0]]
        if tag == "list":
            return lambda env: [a(env) for a in items]
        return lambda env: tuple(a(env) for a in items)
    if tag == "if":
        arity(3)
        test, body, orelse = (_compile(a) for a in args)
        return lambda env: body(env) if test(env) else orelse(env)
    if tag == "cmp":
        arity(3)
        if args[0] not in _COMPARE_OPS:
            raise ProgramError(f"unknown comparison {args[0]!r:.10}")
        cmp, left, right = _COMPARE_OPS[args[0]], _compile(args[1]), _compile(args[2])
        return lambda env: cmp(left(env), right(env))
    if tag in ("and", "or"):
        arity(1)
        if not isinstance(args[0], list) or not args[0]:
            raise ProgramError(f"{tag} of no operands")
        parts = [_compile(a) for a in args[0]]
        if tag == "and":
            def conj(env: dict[str, Any]) -> Any:
                value: Any = True
                for p in parts:
                    value = p(env)
                    if not value:
                        return value
                return value
            return conj

        def disj(env: dict[str, Any]) -> Any:
            value: Any = False
            for p in parts:
                value = p(env)
                if value:
                    return value
            return value
        return disj
    raise ProgramError(f"unknown node {tag!r:.20}")
