"""The papers and books the claims cite, each written once.

Where a theorem or equation number could not be checked against the text of
the paper, the citation says so ("not checked against the paper"); a number
given without that remark was read in the paper.
"""

from __future__ import annotations

BARRETT_DHERIN = "Barrett & Dherin, Implicit Gradient Regularization, ICLR 2021 (arXiv:2009.11162)"

IGR_THEOREM = (f"{BARRETT_DHERIN}, Theorem 3.1: GD θ⁺ = θ − h∇L follows the flow of the modified loss "
               "L̃ = L + (h/4)‖∇L‖² (written there as L + λR_IG, λ = mh/4, R_IG = (1/m)‖∇L‖²) up to a one-step "
               "error O(h³) (wording not checked against the paper)")

BERNOULLI_SERIES = (f"{BARRETT_DHERIN}, §2: backward error analysis writes GD's modified flow as "
                    "θ̇ = −(hD/(e^(hD)−1))g = −(1 − hD/2 + h²D²/12 − h⁴D⁴/720 + …)g, D = d/dt")

IGR_PREDICTIONS = (f"{BARRETT_DHERIN}, Sec. 3: the predicted properties of implicit gradient regularisation "
                   "(numbered 1–4 here; the paper's own numbering not checked against the paper)")

HLW = ("Hairer, Lubich & Wanner, Geometric Numerical Integration, 2nd ed., §IX.1 (modified equations by Taylor "
       "matching; theorem numbers not checked against the book)")

HNW = ("Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed., §II.3 (explicit Euler has order 1; local O(h^(p+1)) ⇒ "
       "global O(h^p) for one-step methods; theorem number not checked against the book)")

SMITH_DHERIN_BARRETT_DE = ("Smith, Dherin, Barrett & De, On the Origin of Implicit Regularization in Stochastic "
                           "Gradient Descent, ICLR 2021 (arXiv:2101.12176)")

SMITH = (f"{SMITH_DHERIN_BARRETT_DE}, Sec. 2: for SGD with random shuffling, E[θ_m] = θ(mh) + O(m³h³) with θ(t) "
         "the flow of L̃_SGD = L + (h/4m)Σ_k‖∇L̂_k‖², whose expectation over shuffles is "
         "L + (h/4)‖∇L‖² + (N−B)/(N−1)·(h/4B)·Γ; abstract: \"when the batch size is small the scale of the implicit "
         "regularization term is proportional to the ratio of the learning rate to the batch size\" (equation "
         "numbers not checked against the paper)")

GHOSH_LYU_ZHANG_WANG = ("Ghosh, Lyu, Zhang & Wang, Implicit regularization in Heavy-ball momentum accelerated SGD, "
                        "ICLR 2023 (arXiv:2302.00849)")

GHOSH = (f"{GHOSH_LYU_ZHANG_WANG}, abstract and main theorem: the implicit regulariser of GD+M is (1+β)/(1−β) times "
         "that of GD (theorem number and exact normalisation not checked against the paper)")

KOVACHKI_STUART_2021 = "Kovachki & Stuart, Continuous Time Analysis of Momentum Methods, JMLR 22(17):1–40 (2021)"

KOVACHKI_STUART = ("Kovachki & Stuart, Continuous Time Analysis of Momentum Methods, JMLR 22 (2021) (invariant "
                   "manifold); Hairer, Lubich & Wanner, GNI, ch. XV.2 (underlying one-step method of a two-step "
                   "scheme)")

KOVACHKI_STUART_FLOW = (f"{KOVACHKI_STUART_2021}, abstract (first of their three results): \"standard "
                        "implementations of fixed momentum methods approximate a time-rescaled gradient descent flow, "
                        "asymptotically as the learning rate shrinks to zero\", for heavy ball and Nesterov's method "
                        "with fixed momentum (theorem number and the form of the rescaling not checked against the "
                        "paper)")

KOVACHKI_STUART_MODIFIED = (f"{KOVACHKI_STUART_2021}, abstract (second and third results): continuous-time "
                            "approximations \"in which the small but fixed learning rate appears as a parameter\" "
                            "(the method of modified equations) and an exponentially attractive invariant manifold; "
                            "their modified equations' coefficients not checked against the paper")

SUTSKEVER = ("Sutskever, Martens, Dahl & Hinton, On the importance of initialization and momentum in deep learning, "
             "ICML 2013 (Nesterov's method with constant momentum in the look-ahead form v ← βv − h∇L(θ + βv); not "
             "checked against the paper)")

GHOSH_REGULARISER = (f"{GHOSH_LYU_ZHANG_WANG}, abstract: GD+M \"follows a continuous trajectory induced by a modified "
                     "loss, which consists of an original loss and an implicit regularizer\", stronger than GD's by "
                     "the factor (1+β)/(1−β); stated here as L̃ = L/(1−β) + h(1+β)/(4(1−β)³)‖∇L‖² with time in units "
                     "of h (θ_n ≈ y(nh)), equivalently L + h(1+β)/(4(1−β)²)‖∇L‖² in the time t/(1−β) (theorem number "
                     "and the paper's own normalisation not checked against the paper)")

MULAYOFF_MICHAELI = "Mulayoff & Michaeli, Exact Mean Square Linear Stability Analysis for SGD, arXiv:2306.07850"

WU_MA_E_2018 = "Wu, Ma & E, How SGD Selects the Global Minima in Over-parameterized Learning, NeurIPS 2018"

WU_MA_E = f"{WU_MA_E_2018}, Sec. 3 (theorem number not checked against the paper)"

MA_YING = ("Ma & Ying, On Linear Stability of SGD and Input-Smoothness of Neural Networks, NeurIPS 2021 "
           "(arXiv:2105.13462)")

MA_YING_STABILITY = f"{MA_YING}, Sec. 4 (statement form not checked against the paper)"

CATTANEO_KLUSOWSKI_SHIGIDA = "Cattaneo, Klusowski & Shigida, On the Implicit Bias of Adam, ICML 2024 (arXiv:2309.00079)"

CATTANEO = (f"{CATTANEO_KLUSOWSKI_SHIGIDA}; abstract: "
            "\"the corresponding ODE terms either penalize the (perturbed) one-norm of the loss gradients or, "
            "conversely, impede its reduction (the latter case being typical)\", with "
            "‖v‖_{1,ε} = Σᵢ√(vᵢ² + ε) and ε inside the square root of the update (closed-form coefficients and "
            "theorem numbers not checked against the paper)")

COHEN_ET_AL = ("Cohen, Kaur, Li, Kolter & Talwalkar, Gradient Descent on Neural Networks Typically Occurs at the "
               "Edge of Stability, ICLR 2021 (arXiv:2103.00065)")

MA_TALK = ("C. Ma, Sobolev regularization effect of stochastic gradient descent, talk at the 2021 BAAI Conference "
           "(mathematical foundations of AI forum), closing remarks")

__all__ = ["BARRETT_DHERIN", "BERNOULLI_SERIES", "CATTANEO", "CATTANEO_KLUSOWSKI_SHIGIDA", "COHEN_ET_AL", "GHOSH",
           "GHOSH_LYU_ZHANG_WANG", "GHOSH_REGULARISER", "HLW", "HNW", "IGR_PREDICTIONS", "IGR_THEOREM",
           "KOVACHKI_STUART", "KOVACHKI_STUART_2021", "KOVACHKI_STUART_FLOW", "KOVACHKI_STUART_MODIFIED", "MA_TALK",
           "MA_YING", "MA_YING_STABILITY", "MULAYOFF_MICHAELI", "SMITH", "SMITH_DHERIN_BARRETT_DE", "SUTSKEVER",
           "WU_MA_E", "WU_MA_E_2018"]
