"""`ascertain validate --images` on the TUNING split only (scikit-image and openclipart's tuning categories):
the candidate stage and the decisions measured while they are changed, never on the held-out categories.

    PYTHONPATH=src nice -n 10 python3 tools/validate_images_tuning.py --works 60 --seed 7
"""

from __future__ import annotations

import argparse

from ascertain.validation.images import markdown, run_image_validation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--works", type=int, default=60, help="as `ascertain validate --images --works` (the tuning "
                                                          "splits take half)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    r = run_image_validation(["skimage", "openclipart-tune"], a.works, 0, a.seed, print)
    print(markdown(r, f"tools/validate_images_tuning.py --works {a.works} --seed {a.seed}"))


if __name__ == "__main__":
    main()
