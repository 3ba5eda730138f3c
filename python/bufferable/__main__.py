"""Command line of bufferable.

    python -m bufferable --mojo-path            the directory to give `mojo build -I`
    python -m bufferable build FILE.mojo [-o OUT] [-I DIR]...
                                                build a Python extension from Mojo
    python -m bufferable demo [...]             the ray-tracing demo
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bufferable",
        description="bufferable: zero-copy memory sharing between Mojo, C/C++ and Python.",
    )
    parser.add_argument(
        "--mojo-path",
        action="store_true",
        help="print the directory holding the bufferable Mojo package (for `mojo build -I`)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="build a Python extension module from a .mojo file",
        description=(
            "Compile FILE.mojo (which defines PyInit_<stem>) into a Python extension module, "
            "with the bufferable Mojo package on the import path. Build in the environment that "
            "will import the module: the result references this environment's Mojo runtime."
        ),
    )
    build.add_argument("source", metavar="FILE.mojo", help="the Mojo module to build")
    build.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file or directory (default: <stem><EXT_SUFFIX> in the current directory)",
    )
    build.add_argument(
        "-I",
        dest="include",
        action="append",
        default=[],
        metavar="DIR",
        help="another directory to search for Mojo imports (repeatable)",
    )
    commands.add_parser("demo", help="the ray-tracing demo (see `python -m bufferable demo -h`)",
                        add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        from .demo.cli import main as demo_main

        return demo_main(argv[1:]) or 0

    parser = _parser()
    args = parser.parse_args(argv)
    from .build import MojoBuildError, build, mojo_path

    if args.mojo_path:
        if args.command is not None:
            parser.error("--mojo-path takes no command")
        print(mojo_path())
        return 0
    if args.command == "build":
        try:
            output = build(args.source, args.output, include=args.include)
        except MojoBuildError as error:
            print(error, file=sys.stderr)
            return 1
        except (OSError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(output)
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
