# Runs pyro4-nsc (Pyro4.nsc.main) once per command, in one process, and
# prints a JSON list of {"stdout", "stderr", "exit"} objects: stdout and
# stderr as the command wrote them, exit as the process would have
# exited (SystemExit). Input: a JSON list of [argv, stdin] pairs on stdin.
import contextlib
import io
import json
import sys
import warnings

import Pyro4.nsc

warnings.simplefilter("ignore")
results = []
for argv, stdin in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    sys.stdin = io.StringIO(stdin)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            Pyro4.nsc.main(argv)
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:
                print(e.code, file=sys.stderr)
                code = 1
    results.append({"stdout": out.getvalue(), "stderr": err.getvalue(), "exit": code})
sys.stdout.write(json.dumps(results))
