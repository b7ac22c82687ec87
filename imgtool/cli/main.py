"""``imgtool``: the click group and the single boundary that turns errors into exit codes."""

from __future__ import annotations

import importlib
import signal
import sys
import traceback

import click

from imgtool import __version__
from imgtool.errors import ExitCode, ImgtoolError

COMMANDS = {
    "filter": ("imgtool.cli.filter_cmd", "filter_command"),
    "kernel": ("imgtool.cli.kernel_cmd", "kernel_command"),
    "edges": ("imgtool.cli.edges_cmd", "edges_command"),
    "scan": ("imgtool.cli.scan_cmd", "scan_command"),
}

EPILOG = """\b
Exit codes: 0 ok, 1 internal error (a bug), 2 bad usage or parameter,
3 unreadable input, 4 output not written, 5 scan found no page,
6 some inputs of a batch failed (all of them: their own code, the lowest),
130 interrupted, 141 stdout closed early (the reader of a pipe quit, as 'head' does).
Run 'imgtool COMMAND --help' for a command's options."""


class LazyGroup(click.Group):
    """A group whose commands are imported only when used (or listed by --help)."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # click would turn it into exit 1 on its own; main() reports it as a closed pipe
            raise ClosedPipe from None


class ClosedPipe(Exception):
    """stdout's reader quit while imgtool wrote to it."""


@click.group(
    cls=LazyGroup,
    epilog=EPILOG,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: debug; tracebacks).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr: no warnings or progress.")
@click.version_option(__version__, "--version", prog_name="imgtool")
@click.pass_context
def cli(ctx, verbose, quiet):
    """Classical image processing: Numba filters, automatic Canny, a document scanner.

    \b
      imgtool scan photo.jpg                  find the page, flatten it, clean it up
      imgtool edges --auto photo.jpg          Canny with automatic thresholds
      imgtool filter --gaussian --sigma 2 in.png -o out.png
      imgtool kernel --sigma 2                the Gaussian kernel imgtool would use
    """
    from imgtool.cli.options import apply_verbosity

    apply_verbosity(ctx, verbose=verbose, quiet=quiet)
    if ctx.invoked_subcommand is None:  # bare 'imgtool': the help, on stdout, exit 0
        click.echo(ctx.get_help())


def _verbose_requested(argv) -> bool:
    return any(a in ("-v", "--verbose") or (a.startswith("-v") and set(a[1:]) == {"v"})
               for a in argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``imgtool`` console script and ``python -m imgtool``."""
    from imgtool._collection import end_collection_pause, pause_collection

    args = sys.argv[1:] if argv is None else list(argv)
    verbose = _verbose_requested(args)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        pause_collection()  # until the first input is done (imgtool.batch)
        code = cli.main(args=args, prog_name="imgtool", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("imgtool: interrupted", err=True)
        code = ExitCode.INTERRUPTED
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "imgtool"
        click.echo(f"imgtool: {exc.format_message()} (see '{where} --help')", err=True)
        code = ExitCode.USAGE
    except click.ClickException as exc:
        click.echo(f"imgtool: {exc.format_message()}", err=True)
        code = ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code
    except ImgtoolError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"imgtool: {exc}", err=True)
        code = exc.exit_code
    except (BrokenPipeError, ClosedPipe):
        code = _closed_pipe()
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"imgtool: internal error: {type(exc).__name__}: {exc} "
                   "(run with -v for the traceback; please report it)", err=True)
        code = ExitCode.FAILURE
    finally:
        # as it was for a caller in the same process; the console script exits next
        end_collection_pause(unfreeze=argv is not None)
    try:
        sys.stdout.flush() if sys.stdout else None
    except BrokenPipeError:
        code = _closed_pipe()
    sys.exit(int(code or 0))


def _closed_pipe() -> int:
    """The reader of stdout went away (``imgtool ... -o - | head -c 10``): stop quietly with
    the status a shell reports for a program killed by SIGPIPE, as ``cat`` and ``yes`` do.
    Python ignores SIGPIPE and raises BrokenPipeError instead; stdout is pointed at
    /dev/null so that flushing it at exit does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # stdout is not a file (a test's buffer)
        pass
    return ExitCode.CLOSED_PIPE


def _on_sigterm(signum, frame):
    # Unwind like Ctrl-C, so atomic writers remove their temporary files.
    raise KeyboardInterrupt
