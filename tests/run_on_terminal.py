"""Runs a command with its stderr on a pseudo-terminal (so that it shows
what it shows people) and its stdout in DIR/stdout; writes what the
terminal received to DIR/terminal. Exits non-zero, with the terminal's
text, when the command fails.

    run_on_terminal.py DIR COMMAND [ARG...]
"""
import os
import pty
import sys

directory, command = sys.argv[1], sys.argv[2:]
pid, terminal = pty.fork()
if pid == 0:
    out = os.open(os.path.join(directory, "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.execv(command[0], command)
seen = b""
while True:
    try:
        data = os.read(terminal, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
_, status = os.waitpid(pid, 0)
with open(os.path.join(directory, "terminal"), "wb") as f:
    f.write(seen)
if status != 0:
    sys.exit(f"FAIL: the command failed ({status}); on the terminal: {seen!r}")
