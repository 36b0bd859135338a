"""`python3 -m ascertain`: the same command line as `ascertain`."""

from ascertain.cli import app

if __name__ == "__main__":
    app(prog_name="ascertain")
