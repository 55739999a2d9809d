"""The evidence of a run as a LaTeX table, for a paper's appendix: claim, kind, verdict, key numbers, source.

:func:`render_latex_table` renders a :class:`~theorycheck.reporting.record.RunRecord`
(typically the run of a user's own claims, ``theorycheck run --only-user``)
as a ``longtable`` (packages ``longtable`` and ``amssymb``), or as a
complete document that compiles with ``pdflatex`` when ``standalone``. Text is
escaped for LaTeX and the Greek letters and mathematical symbols that claim
texts use are written as math-mode commands, so the file needs no Unicode
engine; a character it does not know is written as its code point. The
"kind" column is the claim's kind of statement (theorem, derived,
extrapolation, heuristic) where the evidence records one. The table renders
only what the record holds; it computes nothing.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from theorycheck.core.evidence import Evidence
from theorycheck.reporting.record import RunRecord

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
            ">": r"\textgreater{}", "|": r"\textbar{}"}

_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon "
          "phi chi psi omega").split()
_MATH: dict[str, str] = {chr(0x3B1 + i): "\\" + g for i, g in enumerate(_GREEK) if g != "omicron"}
_MATH.update({"ο": "o", "ς": r"\varsigma", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda",
              "Σ": r"\Sigma", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega", "Π": r"\Pi", "∇": r"\nabla",
              "‖": r"\|", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "∞": r"\infty", "∑": r"\sum",
              "√": r"\surd", "·": r"\cdot", "×": r"\times", "−": "-", "±": r"\pm", "→": r"\to", "←": r"\leftarrow",
              "↦": r"\mapsto",
              "⇔": r"\Leftrightarrow", "⇒": r"\Rightarrow", "∈": r"\in", "⊙": r"\odot", "⪰": r"\succeq",
              "ᵀ": r"^{\top}", "⁻": "^{-}", "¹": "^{1}", "²": "^{2}", "³": "^{3}", "⁴": "^{4}", "ⁿ": "^{n}",
              "ᵢ": "_{i}", "ⱼ": "_{j}", "ₖ": "_{k}", "₀": "_{0}", "₁": "_{1}", "₂": "_{2}", "ₓ": "_{x}", "½": r"\frac12",
              "¼": r"\frac14", "∂": r"\partial", "∫": r"\int", "∘": r"\circ", "⁺": "^{+}",
              "\u0307": "", "∗": "*", "ℓ": r"\ell", "∼": r"\sim", "⊤": r"\top", "∀": r"\forall", "∃": r"\exists",
              "≪": r"\ll", "≫": r"\gg", "⌊": r"\lfloor", "⌋": r"\rfloor", "⟨": r"\langle", "⟩": r"\rangle",
              "⊗": r"\otimes", "⊕": r"\oplus", "⁸": "^{8}", "⁵": "^{5}", "⁶": "^{6}", "⁷": "^{7}", "⁹": "^{9}",
              "⁰": "^{0}", "₃": "_{3}", "₄": "_{4}", "ₜ": "_{t}", "ₙ": "_{n}", "ₘ": "_{m}", "Ĥ": r"\hat{H}",
              "ẏ": r"\dot{y}"})
_TEXT = {"–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\dots{}", "é": r"\'e", "è": r"\`e",
         "ö": r"\"o", "ü": r"\"u", "ä": r"\"a", "ç": r"\c{c}", "ñ": r"\~n", "\u00a0": "~", "ß": r"\ss{}",
         "ø": r"\o{}", "å": r"\aa{}", "É": r"\'E", "á": r"\'a", "í": r"\'i", "ó": r"\'o", "ú": r"\'u",
         "§": r"\S{}", "\u0303": r"\textasciitilde{}", "\u0302": r"\textasciicircum{}"}


def escape(text: str) -> str:
    """``text`` as LaTeX source for a table cell: specials escaped, symbols as math, unknown characters as U+XXXX."""
    out: list[str] = []
    math_run: list[str] = []  # adjacent symbols share one math span

    def flush() -> None:
        if math_run:
            out.append("$" + " ".join(math_run) + "$")
            math_run.clear()

    for ch in str(text):
        if ch in _MATH:
            if _MATH[ch]:
                math_run.append(_MATH[ch])
            continue
        flush()
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _TEXT:
            out.append(_TEXT[ch])
        elif ord(ch) < 128:
            out.append(ch if ch.isprintable() else " ")
        else:
            out.append(rf"\texttt{{U+{ord(ch):04X}}}")
    flush()
    return "".join(out)


def _number(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return r"$\infty$" if v > 0 else r"$-\infty$"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_number(x) for x in v[:4]) + (", …]" if len(v) > 4 else "]")
    return escape(str(v))


def _key_numbers(e: Evidence, limit: int = 3) -> str:
    items = list(e.key.items())[:limit]
    return "; ".join(f"{escape(k)} = {_number(v)}" for k, v in items) or "--"


def render_latex_table(record: RunRecord, *, kinds: Mapping[str, str] | None = None, standalone: bool = False,
                       caption: str = "Claims checked numerically with theorycheck.") -> str:
    """The run's claims as a LaTeX ``longtable``: claim, kind, verdict (FINDING for a declared finding that FAILs),
    key numbers (at most three), source.

    Parameters
    ----------
    record : RunRecord
        The run to tabulate, one row per claim in its order.
    kinds : mapping of claim id to kind, optional
        The kind of statement per claim, where the evidence does not record one.
    standalone : bool
        Wrap the table in a complete ``article`` document (compiles with ``pdflatex``).
    """
    rows = []
    for e in record.claims:
        kind = getattr(e, "statement_kind", "") or (kinds or {}).get(e.claim_id, "")
        rows.append(" & ".join([rf"\texttt{{{escape(e.claim_id)}}}", escape(kind) or "--", escape(e.outcome),
                                _key_numbers(e), escape(e.source)]) + r" \\")
    table = "\n".join([
        r"\begin{longtable}{@{}p{0.2\linewidth}p{0.09\linewidth}p{0.1\linewidth}p{0.22\linewidth}p{0.3\linewidth}@{}}",
        rf"\caption{{{escape(caption)}}}\\",
        r"\hline",
        r"Claim & Kind & Verdict & Key numbers & Source \\",
        r"\hline",
        r"\endhead",
        *rows,
        r"\hline",
        r"\end{longtable}",
    ])
    if not standalone:
        return table + "\n"
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage{amsmath,amssymb,longtable}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\begin{document}",
        r"\small",
        table,
        r"\end{document}",
    ]) + "\n"


__all__ = ["escape", "render_latex_table"]
