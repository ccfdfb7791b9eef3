# Reads a JSON list of [pattern, name] pairs on stdin and prints a JSON
# list with, for each pair, true/false (re.match found a match) or
# "error: <message>" when Python refuses the pattern.
import json
import re
import sys
import warnings

warnings.simplefilter("ignore")
out = []
for pattern, name in json.load(sys.stdin):
    try:
        rx = re.compile(pattern)
    except re.error as e:
        out.append("error: " + str(e))
        continue
    out.append(rx.match(name) is not None)
json.dump(out, sys.stdout)
