#!/usr/bin/python3
"""validate-json.py -- validates a JSON document (a file, or - for stdin) against one of
the JSON Schemas under schemas/ with python3-jsonschema (draft 2020-12), after checking the
schema itself. Exit status 0 valid, 1 invalid (the reason on stdout).
Usage: validate-json.py SCHEMA.json DOCUMENT"""
import json
import sys

import jsonschema


def main() -> int:
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    text = sys.stdin.read() if sys.argv[2] == "-" else open(sys.argv[2]).read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        print(f"not JSON: {e}: {text[:200]!r}")
        return 1
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)
    for e in errors[:5]:
        print(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
