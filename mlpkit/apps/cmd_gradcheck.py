"""`mlpkit gradcheck`: backpropagation against numerical gradients on small networks."""

from __future__ import annotations

import numpy as np

from .cli_options import int_at_least, positive

GRADCHECK_THRESHOLD = 1e-7



def run(args):
    from ..data.preprocessing import one_hot
    from ..nn.gradcheck import gradient_check
    from ..nn.network import Network

    rng = np.random.default_rng(args.seed)
    m = 12
    X = rng.standard_normal((5, m))
    checks = [
        ("softmax output, relu/tanh hidden", "softmax", ["relu", "tanh"],
         one_hot(rng.integers(0, 3, m), 3)),
        ("sigmoid output, tanh/sigmoid hidden", "sigmoid", ["tanh", "sigmoid"],
         rng.integers(0, 2, (1, m)).astype(float)),
    ]
    options = {"l2": 0.7, "keep_prob": 0.8, "seed": args.seed}
    print("gradient check: batch norm, dropout (keep_prob 0.8, fixed mask), L2 (lambda 0.7), "
          f"epsilon {args.epsilon:g}, threshold {GRADCHECK_THRESHOLD:g}")
    worst = 0.0
    for name, output, hidden, Y in checks:
        net = Network([5, 4, 3, Y.shape[0]], hidden_activation=hidden, output_activation=output,
                      batch_norm=True, seed=args.seed)
        difference = gradient_check(net, X, Y, epsilon=args.epsilon, **options)
        worst = max(worst, difference)
        verdict = "PASS" if difference <= GRADCHECK_THRESHOLD else "FAIL"
        print(f"  {name:<38} relative difference {difference:.3e}  {verdict}")
    passed = worst <= GRADCHECK_THRESHOLD
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


def add_parser(commands):
    gradcheck = commands.add_parser(
        "gradcheck", help="check backpropagation against numerical gradients",
        description="Gradient check of small random networks with batch norm, dropout (one "
        "fixed mask), L2, softmax and sigmoid outputs. Exit status 1 on FAIL.")
    gradcheck.add_argument("--seed", type=int_at_least(0), default=0)
    gradcheck.add_argument("--epsilon", type=positive(), default=1e-7,
                           help="finite-difference step (default: %(default)s)")
    gradcheck.set_defaults(run=run)
