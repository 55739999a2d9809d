"""The papers the built-in claims cite, statement by statement in each paper's order (data only).

Each :class:`~theorycheck.claims.papers.Statement` names the claims that check
it, or says why none does, or marks a question the authors leave open. Where
a theorem, proposition or section number was read in the paper
``where_checked=True``; otherwise every view adds "number not checked against
the paper". Statements are paraphrased in this package's notation; what is
quoted from an abstract is in quotation marks.

To put a new claim under a statement, add its id to that statement's
``claims`` (a test fails for a registered built-in claim that is under no
statement, and for a statement naming a claim that does not exist).
"""

from __future__ import annotations

from theorycheck.claims.papers import Paper, Statement, register_paper
from theorycheck.claims.sources import (
    BARRETT_DHERIN,
    CATTANEO_KLUSOWSKI_SHIGIDA,
    COHEN_ET_AL,
    GHOSH_LYU_ZHANG_WANG,
    KOVACHKI_STUART_2021,
    MA_TALK,
    MA_YING,
    SMITH_DHERIN_BARRETT_DE,
    WU_MA_E_2018,
)

_IMAGE_SCALE = "needs training deep networks on image data sets at the paper's scale"

BARRETT_DHERIN_2021 = Paper(
    key="barrett-dherin-2021", short="Barrett & Dherin 2021", citation=BARRETT_DHERIN,
    url="https://arxiv.org/abs/2009.11162",
    statements=(
        Statement("Sec. 2", "GD θ⁺ = θ − h∇L is explicit Euler on the gradient flow θ̇ = −∇L: one-step error O(h²), "
                  "global error O(h) on a fixed horizon (classical; Hairer, Nørsett & Wanner §II.3)",
                  claims=("gd-flow-local-order", "gd-flow-global-order"), where_checked=True),
        Statement("Sec. 2", "Backward error analysis: GD follows exactly a modified flow, the Bernoulli series "
                  "θ̇ = −(hD/(e^{hD}−1))g = −(1 − hD/2 + h²D²/12 − h⁴D⁴/720 + …)g; truncated after h^k it leaves a "
                  "one-step error O(h^(k+2))",
                  claims=("bernoulli-equals-taylor", "modified-truncation-order", "modified-truncation-global-order",
                          "quadratic-exact-modified-field", "implicit.lie-log-series"), where_checked=True,
                  note="checked against Taylor matching (Hairer, Lubich & Wanner §IX.1), the exact field of a "
                       "quadratic and the derivative-free log(1+Δ) of the orbit"),
        Statement("Theorem 3.1", "GD follows the flow of the modified loss L̃ = L + (h/4)‖∇L‖² with one-step error "
                  "O(h³): the implicit gradient regulariser (h/4)‖∇L‖²",
                  claims=("igr-local-order", "igr-global-order", "implicit.egr-coefficient-scan"), where_checked=True),
        Statement("beyond Theorem 3.1", "Extrapolation, not stated in the paper: every higher term of GD's modified "
                  "field is also a gradient, so GD follows a modified loss to all orders",
                  claims=("gradient-field-terms",), where_checked=True,
                  note="the paper writes only the h¹ term as a loss; the FAIL refutes the all-orders reading, not "
                       "Theorem 3.1"),
        Statement("Sec. 3, prediction 1", "IGR encourages a smaller gradient penalty ‖∇L‖² relative to the loss, "
                  "more so at larger learning rate and larger model size",
                  claims=("implicit.igr-p1-rate", "implicit.igr-p1-width")),
        Statement("Sec. 3, prediction 2", "IGR encourages flatter optima and smoother optimisation (a smaller slope "
                  "‖∇L‖ along the path) at larger learning rate",
                  claims=("implicit.igr-p2-slope",)),
        Statement("Sec. 3, prediction 3", "IGR encourages higher test accuracy at larger learning rate",
                  claims=("implicit.igr-p3-accuracy",)),
        Statement("Sec. 3, prediction 4", "IGR encourages optima more robust to parameter perturbations (to second "
                  "order the loss increase under noise σε is (σ²/2)·Tr H)",
                  claims=("implicit.igr-p4-noise", "implicit.igr-p4-quadratic")),
        Statement("Sec. 4", "Explicit gradient regularisation: training on L + μ‖∇L‖² controls the regulariser "
                  "directly; with μ = h/4 it is the implicit one",
                  claims=("implicit.egr-coefficient-scan", "implicit.egr-two-layer-net"), where_checked=True),
        Statement("abstract, experiments", "\"implicit gradient regularization biases gradient descent toward flat "
                  "minima, where test errors are small and solutions are robust to noisy parameter perturbations\" "
                  "on deep networks", not_checked=f"{_IMAGE_SCALE}; the small-network versions are predictions 1–4",
                  where_checked=True),
    ),
)

SMITH_2021 = Paper(
    key="smith-dherin-barrett-de-2021", short="Smith, Dherin, Barrett & De 2021", citation=SMITH_DHERIN_BARRETT_DE,
    url="https://arxiv.org/abs/2101.12176",
    statements=(
        Statement("Sec. 2", "For SGD with random shuffling the mean iterate after an epoch of m steps follows the "
                  "flow of L̃_SGD = L + (h/4m)Σ_k‖∇L̂_k‖² with error O(m³h³)",
                  claims=("implicit.sgd-modified-loss-exact", "implicit.sgd-modified-loss-sampled")),
        Statement("Sec. 2 and abstract", "Over random shuffles the regulariser's mean is (h/4)‖∇L‖² + "
                  "(N−B)/(N−1)·(h/4B)·Γ: \"when the batch size is small the scale of the implicit regularization "
                  "term is proportional to the ratio of the learning rate to the batch size\"",
                  claims=("implicit.sgd-modified-loss-sampled",)),
        Statement("beyond Sec. 2", "Derived here, not in the paper: mini-batch heavy ball over m batches follows "
                  "L + h/(4(1−β))[κ‖∇L‖² + ρV], which reduces to the paper's loss at β = 0",
                  claims=("implicit.sgd-momentum-modified-loss", "implicit.sgd-momentum-reshuffled"),
                  where_checked=True),
        Statement("Sec. 2.3", "Explicitly including the implicit regulariser in the loss can enhance the test "
                  "accuracy when the learning rate is small (a Wide-ResNet on CIFAR-10)",
                  not_checked=_IMAGE_SCALE, where_checked=True),
    ),
)

GHOSH_2023 = Paper(
    key="ghosh-lyu-zhang-wang-2023", short="Ghosh, Lyu, Zhang & Wang 2023", citation=GHOSH_LYU_ZHANG_WANG,
    url="https://arxiv.org/abs/2302.00849",
    statements=(
        Statement("main theorem", "GD+M (heavy ball) follows a continuous trajectory of a modified loss, the original "
                  "loss plus an implicit regulariser",
                  claims=("implicit.heavy-ball-modified-equation", "implicit.ghosh-heavy-ball-regulariser")),
        Statement("main theorem", "The implicit regulariser of GD+M is (1+β)/(1−β) times that of GD: "
                  "L + (1+β)/(1−β)·h/(4(1−β))‖∇L‖² along the rescaled flow −∇/(1−β)",
                  claims=("implicit.ghosh-heavy-ball-regulariser", "implicit.heavy-ball-modified-equation"),
                  note="the normalisation of the rescaled flow is this package's; the paper's exact normalisation "
                       "not checked against the paper"),
        Statement("SGD+M theorem", "SGD+M follows a continuous trajectory in a pointwise sense along the run",
                  not_checked="the paper's pointwise statement is not checked; the derived mini-batch losses below "
                              "average over batch orders instead"),
        Statement("beyond the SGD+M theorem", "Derived here, not in the paper: averaged over batch orders, mini-batch "
                  "heavy ball amplifies only the full-batch part of the regulariser by κ = (1+β)/(1−β); the "
                  "batch-noise part has a factor ρ < 1",
                  claims=("implicit.sgd-momentum-modified-loss", "implicit.sgd-momentum-reshuffled"),
                  where_checked=True),
        Statement("experiments", "GD+M generalises better and reaches a higher test accuracy than GD",
                  not_checked=_IMAGE_SCALE),
    ),
)

KOVACHKI_STUART_PAPER = Paper(
    key="kovachki-stuart-2021", short="Kovachki & Stuart 2021", citation=KOVACHKI_STUART_2021,
    url="https://jmlr.org/papers/v22/19-466.html",
    statements=(
        Statement("abstract, first result", "Fixed-momentum methods (heavy ball, Nesterov) approximate a "
                  "time-rescaled gradient flow θ̇ = −∇L/(1−β) as the learning rate tends to zero",
                  claims=("implicit.momentum-rescaled-flow", "implicit.heavy-ball-modified-equation"),
                  where_checked=True,
                  note="heavy ball and Nesterov (look-ahead form): the rescaled flow leaves local order 2, the "
                       "modified equation 3; the form of the rescaling not checked against the paper"),
        Statement("abstract, second and third results", "At a fixed small learning rate, heavy ball is approximated "
                  "by a continuous-time limit with the learning rate as a parameter (method of modified equations), "
                  "on an attracting invariant manifold of the two-step iteration",
                  claims=("implicit.heavy-ball-modified-equation",),
                  where_checked=True,
                  note="measured on the slow manifold reached by shooting; the form of the paper's two theorems not "
                       "checked against the paper"),
        Statement("abstract, second and third results", "The same for Nesterov's accelerated gradient at fixed β",
                  claims=("implicit.nesterov-modified-flow",), where_checked=True,
                  note="the first-order factor κ₁ = (1−β+2β²)/(1−β) is derived here; the paper's coefficients not "
                       "checked against the paper"),
    ),
)

CATTANEO_2024 = Paper(
    key="cattaneo-klusowski-shigida-2024", short="Cattaneo, Klusowski & Shigida 2024",
    citation=CATTANEO_KLUSOWSKI_SHIGIDA, url="https://arxiv.org/abs/2309.00079",
    statements=(
        Statement("main theorem, RMSProp", "RMSProp (ε inside the square root) follows an ODE whose O(h) term involves "
                  "the perturbed one-norm ‖∇L‖_{1,ε} = Σᵢ√((∂ᵢL)² + ε)",
                  claims=("implicit.adam-modified-equation", "implicit.cattaneo-adaptive-first-order"),
                  note="the field is derived here; its form is the paper's, its closed-form coefficients not checked "
                       "against the paper"),
        Statement("main theorem, Adam", "Adam follows such an ODE too, with coefficients that depend on β, ρ, ε and, "
                  "through the bias corrections, on the training stage",
                  claims=("implicit.adam-modified-equation", "implicit.adam-bias-correction",
                          "implicit.cattaneo-adaptive-first-order")),
        Statement("abstract", "\"the corresponding ODE terms either penalize the (perturbed) one-norm of the loss "
                  "gradients or, conversely, impede its reduction (the latter case being typical)\"",
                  claims=("implicit.adam-one-norm-sign",), where_checked=True),
        Statement("experiments", "\"We also conduct numerical experiments and discuss how the proven facts can "
                  "influence generalization\"", not_checked=_IMAGE_SCALE, where_checked=True),
    ),
)

WU_MA_E_PAPER = Paper(
    key="wu-ma-e-2018", short="Wu, Ma & E 2018", citation=WU_MA_E_2018,
    url="https://papers.nips.cc/paper_files/paper/2018/hash/6651526b6fb8f29a00507de6a49ce30f-Abstract.html",
    statements=(
        Statement("Sec. 3", "GD is linearly stable at a minimum iff η ≤ 2/λ_max(H): it converges only to minima of "
                  "sharpness a ≤ 2/η",
                  claims=("stability.gd-threshold", "nets.gd-edge-of-stability")),
        Statement("Sec. 3", "For SGD, sharpness a = λ_max(H) and non-uniformity s = λ_max(Σ)^{1/2} together decide "
                  "linear stability; λ_max{(I−ηH)² + η²pΣ} ≤ 1 is sufficient",
                  claims=("stability.wu-ma-e-sufficient",)),
        Statement("Sec. 3", "Stability needs 0 ≤ a ≤ 2/η and 0 ≤ s ≤ (1/η)√(1/p) (√B/η with replacement)",
                  claims=("stability.wu-ma-e-necessary",),
                  note="checked against the exact threshold η*(B): the non-uniformity condition is not necessary"),
        Statement("abstract", "\"learning rate and batch size play different roles in minima selection\"",
                  claims=("stability.batch-monotone", "nets.flatness-vs-lr-batch"), where_checked=True),
        Statement("experiments", "\"Extensive empirical results seem to correlate well with the theoretical "
                  "findings\"", not_checked=_IMAGE_SCALE, where_checked=True),
    ),
)

MA_YING_2021 = Paper(
    key="ma-ying-2021", short="Ma & Ying 2021", citation=MA_YING, url="https://arxiv.org/abs/2105.13462",
    statements=(
        Statement("Sec. 2, multiplicative structure", "First layer z = Wx + b: ∇ₓf = Wᵀδ and ∇_W f = δxᵀ, so "
                  "‖∇ₓf(x)‖ ≤ ‖W‖₂‖∇_W f(x)‖_F/‖x‖",
                  claims=("nets.multiplicative-inequality",)),
        Statement("Sec. 2, flatness at interpolation", "At an interpolating minimum of the square loss "
                  "Tr H = (1/n)Σᵢ‖∇_θ f(xᵢ)‖²",
                  claims=("nets.gauss-newton-trace",)),
        Statement("eq. 6", "Flatness bounds the (1,2)-Sobolev seminorm on the training set at "
                  "interpolation: (1/n)Σᵢ‖∇ₓf(xᵢ)‖² ≤ (‖W‖₂²/minᵢ‖xᵢ‖²)·Tr H",
                  claims=("nets.sobolev-flatness",), where_checked=True,
                  note="equation number and constant ‖W‖₂^k/minᵢ‖xᵢ‖^k as quoted in the OpenReview discussion of "
                       "Chen et al., arXiv:2310.01770"),
        Statement("Thm. 1 and Cor. 3", "Linear stability of SGD at a minimum in the k-th moment; for k = 2 the "
                  "second moment evolves by M ↦ M − η(HM + MH) + η²E[ĤMĤ] and its spectral radius decides it",
                  claims=("stability.second-moment-operator", "stability.closed-form", "stability.monte-carlo",
                          "nets.gd-edge-of-stability"), where_checked=True,
                  note="theorem numbers as Mulayoff & Michaeli restate them (their Thm. 2)"),
        Statement("Sec. 4", "Linear stability bounds flatness through η and B: Tr H ≤ 2/(ηp) and a bound on "
                  "mean‖gᵢ‖⁴; higher moments for k-th order stability",
                  claims=("stability.ma-ying-flatness", "stability.kth-order"),
                  note="k = 4 is an extrapolation of this package's (stability.kth-order)"),
        Statement("abstract", "\"SGD tends to impose constraints on these moments\": SGD tends to select minima "
                  "that are linearly stable for its (η, B), so flatness falls as η grows or B shrinks",
                  claims=("nets.sgd-linear-stability", "nets.flatness-vs-lr-batch"), where_checked=True,
                  note="an informal reading of the theorem; a converged run above η* dents only this reading"),
        Statement("abstract", "\"SGD regularizes the Sobolev seminorms of the model function with respect to the input "
                  "data\": the two links above combined",
                  claims=("nets.sobolev-flatness", "stability.ma-ying-flatness"), where_checked=True,
                  note="each link is checked; their composition is not a separate claim"),
        Statement("Sec. 4, generalisation bound", "Test error near the training set is bounded by the Sobolev term "
                  "of f, the target's gradient, and the probability of leaving the training neighbourhoods (under a "
                  "local-smoothness assumption)",
                  claims=("nets.generalisation-near-training-set",),
                  note="the deterministic core inside radius-r neighbourhoods; the probability term is the next "
                       "statement"),
        Statement("Sec. 4, generalisation bound", "The bound's last term: the probability that a test point falls "
                  "outside the union of the training neighbourhoods, small when their radius is of order n^(−1/k) "
                  "(data drawn i.i.d.)",
                  not_checked="a statement about the data distribution; the generalisation check stays inside the "
                              "neighbourhoods"),
        Statement("Sec. 4, adversarial robustness", "Flat interpolating solutions change little under small input "
                  "perturbations",
                  claims=("nets.adversarial-robustness",)),
        Statement("experiments", "Numerical experiments on trained neural networks accompany the theory (code: "
                  "github.com/ChaoMa93/Sobolev-Reg-of-SGD)",
                  not_checked="the experiments were not read; their networks and data sets are not checked against "
                              "the paper"),
        Statement("open question (talk, closing remarks)", "Networks deeper than two layers: does the first-layer argument, "
                  "and with it flatness bounding the Sobolev seminorm, carry over to depth 3 and 4?",
                  claims=("nets.deep-multiplicative",), open_question=True, where_checked=True,
                  note=f"left open in {MA_TALK}; the first-layer algebra holds at any depth, and the check measures "
                       "it on trained depth-3 and depth-4 nets and how loose the bound becomes"),
        Statement("open question (talk, closing remarks)", "Minima that do not interpolate: Tr H = (1/n)Σ‖∇_θfᵢ‖² + "
                  "(1/n)Σrᵢ Tr∇²_θfᵢ, so the Sobolev bound needs the residual part",
                  claims=("nets.sobolev-non-interpolating",), open_question=True, where_checked=True,
                  note=f"left open in {MA_TALK}"),
    ),
)

MULAYOFF_MICHAELI_2024 = Paper(
    key="mulayoff-michaeli-2024", short="Mulayoff & Michaeli 2024",
    citation="Mulayoff & Michaeli, Exact Mean Square Linear Stability Analysis for SGD, COLT 2024, PMLR 247:3915–3969 "
             "(arXiv:2306.07850)",
    url="https://arxiv.org/abs/2306.07850",
    statements=(
        Statement("Thm. 1 and App. I", "Mean stability needs η ≤ 2/λ_max(H); at B = n the criterion is GD's",
                  claims=("stability.gd-threshold", "stability.full-batch-limit"), where_checked=True),
        Statement("eq. 10 and Thm. 2", "The second moment of linearised SGD evolves by the closed-form map with "
                  "sampling factor p = 1/B (with replacement) or (n−B)/(B(n−1)) (without): SGD is as stable as a "
                  "mixture of a full-batch step (probability 1−p) and a single-sample step (probability p)",
                  claims=("stability.second-moment-operator",), where_checked=True),
        Statement("Thm. 3", "Exact threshold in closed form: η* = 2/λ_max(C⁺D), C = ½(H⊕H), "
                  "D = (1−p)H⊗H + p·mean(Hᵢ⊗Hᵢ)",
                  claims=("stability.closed-form",), where_checked=True),
        Statement("Prop. 1", "The threshold η*(B) is non-decreasing in the batch size B",
                  claims=("stability.batch-monotone",), where_checked=True),
        Statement("Prop. 3, eqs. 15–16", "Two simple necessary conditions (closed-form upper bounds on η*)",
                  claims=("stability.mulayoff-michaeli-necessary",), where_checked=True),
        Statement("Thm. 6", "The dominant eigenmatrix of the second-moment map is positive semi-definite",
                  claims=("stability.monte-carlo",), where_checked=True),
        Statement("abstract", "\"we derive the asymptotic covariance of the dynamics around the minimum\"",
                  not_checked="no claim yet checks the asymptotic covariance", where_checked=True),
        Statement("abstract", "\"We validate our theoretical findings through experiments on the MNIST dataset\"",
                  not_checked="needs training networks on MNIST", where_checked=True),
    ),
)

COHEN_2021 = Paper(
    key="cohen-et-al-2021", short="Cohen et al. 2021", citation=COHEN_ET_AL, url="https://arxiv.org/abs/2103.00065",
    statements=(
        Statement("Sec. 2, background", "GD on a quadratic is unstable when the sharpness exceeds 2/η (\"if and only "
                  "if\" for convex quadratics)",
                  claims=("stability.gd-threshold", "nets.gd-edge-of-stability"),
                  note="nets.gd-edge-of-stability checks the consequence at convergence: converged GD solutions have "
                       "η·λ_max ≤ 2"),
        Statement("Sec. 3, progressive sharpening", "While the sharpness is below 2/η it tends to rise during "
                  "full-batch training",
                  not_checked="needs the sharpness along whole training runs of the paper's architectures; the small "
                              "nets here are measured at convergence only"),
        Statement("abstract, edge of stability", "\"the maximum eigenvalue of the training loss Hessian hovers just "
                  "above the value 2/(step size), and the training loss behaves non-monotonically over short "
                  "timescales, yet consistently decreases over long timescales\"",
                  not_checked="the same: a statement about training trajectories of the paper's architectures",
                  where_checked=True),
    ),
)

HAIRER_LUBICH_WANNER = Paper(
    key="hairer-lubich-wanner-2006", short="Hairer, Lubich & Wanner (book)",
    citation="Hairer, Lubich & Wanner, Geometric Numerical Integration, 2nd ed., Springer 2006",
    statements=(
        Statement("§IX.1", "Modified equations by Taylor matching: the field f̃ = f + hf₂ + h²f₃ + … built so that "
                  "its time-h flow matches the method to O(h^(k+2)) when truncated after h^k",
                  claims=("modified-truncation-order", "modified-truncation-global-order", "bernoulli-equals-taylor",
                          "quadratic-exact-modified-field", "implicit.lie-log-series",
                          "implicit.optimizer-protocol-hand-derivations"),
                  note="theorem numbers not checked against the book"),
        Statement("ch. XV.2", "A two-step scheme has an underlying one-step method on an attracting invariant "
                  "manifold", claims=("implicit.heavy-ball-modified-equation",
                                      "implicit.optimizer-protocol-hand-derivations"),
                  note="theorem numbers not checked against the book"),
    ),
)

HAIRER_NORSETT_WANNER = Paper(
    key="hairer-norsett-wanner-1993", short="Hairer, Nørsett & Wanner (book)",
    citation="Hairer, Nørsett & Wanner, Solving Ordinary Differential Equations I, 2nd ed., Springer 1993",
    statements=(
        Statement("§II.3", "Explicit Euler has order 1; for one-step methods local error O(h^(p+1)) gives global "
                  "error O(h^p) on a fixed horizon",
                  claims=("gd-flow-local-order", "gd-flow-global-order", "igr-global-order",
                          "modified-truncation-global-order"),
                  note="theorem number not checked against the book"),
    ),
)

#: The built-in papers, in the report's order.
PAPERS = (BARRETT_DHERIN_2021, MA_YING_2021, WU_MA_E_PAPER, MULAYOFF_MICHAELI_2024, SMITH_2021, GHOSH_2023,
          KOVACHKI_STUART_PAPER, CATTANEO_2024, COHEN_2021, HAIRER_LUBICH_WANNER, HAIRER_NORSETT_WANNER)

for _paper in PAPERS:
    register_paper(_paper)

__all__ = ["BARRETT_DHERIN_2021", "CATTANEO_2024", "COHEN_2021", "GHOSH_2023", "HAIRER_LUBICH_WANNER",
           "HAIRER_NORSETT_WANNER", "KOVACHKI_STUART_PAPER", "MA_YING_2021", "MULAYOFF_MICHAELI_2024", "PAPERS",
           "SMITH_2021", "WU_MA_E_PAPER"]
