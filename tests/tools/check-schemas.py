#!/usr/bin/python3
"""check-schemas.py -- checks the JSON Schemas under schemas/, their canonical examples and
schemas/catalog.json with python3-jsonschema (draft 2020-12). One check per run, for
tests/e2e/schemas.sh; exit status 0 passed, 1 failed (the reasons on stdout).
  check-schemas.py schema SCHEMA.json        a valid draft 2020-12 schema, $id = base + file
                                             name, every object closed
  check-schemas.py valid SCHEMA.json EXAMPLE the example validates
  check-schemas.py closed SCHEMA.json EXAMPLE the example with an unknown member added to any
                                             one of its objects no longer validates
  check-schemas.py catalog DIR WHAT          schemas/catalog.json: WHAT is
      shape     it has the catalog's shape (CATALOG_SCHEMA below)
      listed    every schema file of DIR is in it
      present   every file it names exists
      ids       each entry's $id is its file's $id
      examples  the examples it names are exactly DIR/examples/*, each of its own schema
A schema file is DIR/*.json except catalog.json; examples/STEM[.VARIANT].example.json
belongs to STEM.json."""
import copy
import json
import os
import re
import sys

import jsonschema

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://quorum-time.example/schemas/"
UNKNOWN = "unknown_member_added_by_the_test"
EXAMPLE_NAME = re.compile(r"^([a-z0-9-]+)(\.[a-z0-9-]+)?\.example\.json$")

CATALOG_SCHEMA = {
    "$schema": DRAFT,
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description", "base", "schemas"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "base": {"const": BASE},
        "schemas": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["$id", "file", "title", "written_by", "read_by", "examples"],
                "properties": {
                    "$id": {"type": "string", "pattern": "^" + re.escape(BASE)},
                    "file": {"type": "string", "pattern": r"^[a-z0-9-]+\.json$"},
                    "title": {"type": "string", "pattern": r"^[^\n]+$"},
                    "written_by": {"type": "array", "minItems": 1,
                                   "items": {"type": "string", "minLength": 1}},
                    "read_by": {"type": "array", "minItems": 1,
                                "items": {"type": "string", "minLength": 1}},
                    "examples": {"type": "array", "minItems": 1, "uniqueItems": True,
                                 "items": {"type": "string",
                                           "pattern": r"^examples/[a-z0-9.-]+\.json$"}},
                },
            },
        },
    },
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def errors_of(schema, doc):
    return sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)


def show(errors, limit=5):
    for e in errors[:limit]:
        print(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}")


def subschemas(node, where="#"):
    """Every object of a schema document with its JSON pointer."""
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            if k in ("const", "enum", "default", "examples"):
                continue  # values, not schemas
            if k in ("properties", "patternProperties", "$defs", "dependentSchemas") \
                    and isinstance(v, dict):
                for name, sub in v.items():  # a map of schemas, not a schema
                    yield from subschemas(sub, f"{where}/{k}/{name}")
            else:
                yield from subschemas(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from subschemas(v, f"{where}/{i}")


def check_schema(path):
    schema = load(path)
    problems = []
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        problems.append(f"not a valid draft 2020-12 schema: {e.message}")
    if schema.get("$schema") != DRAFT:
        problems.append(f"$schema is {schema.get('$schema')!r}, not {DRAFT}")
    if schema.get("$id") != BASE + os.path.basename(path):
        problems.append(f"$id is {schema.get('$id')!r}, not {BASE + os.path.basename(path)}")
    objects = 0
    for where, node in subschemas(schema):
        typed = node.get("type") == "object" or (isinstance(node.get("type"), list)
                                                   and "object" in node["type"])
        if "properties" in node or typed:
            objects += 1
            if node.get("additionalProperties") is not False:
                problems.append(f"{where}: an object without additionalProperties: false")
            if "properties" not in node:
                problems.append(f"{where}: an object without properties")
    if objects == 0:
        problems.append("describes no object")
    for p in problems:
        print(p)
    if not problems:
        print(f"{os.path.basename(path)}: {objects} closed object(s)")
    return 1 if problems else 0


def check_valid(schema_path, example_path):
    errors = errors_of(load(schema_path), load(example_path))
    show(errors)
    return 1 if errors else 0


def objects_of(doc, where=()):
    """The paths of every JSON object in DOC."""
    if isinstance(doc, dict):
        yield where
        for k, v in doc.items():
            yield from objects_of(v, where + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from objects_of(v, where + (i,))


def check_closed(schema_path, example_path):
    schema, doc = load(schema_path), load(example_path)
    paths = list(objects_of(doc))
    accepted = []
    for where in paths:
        changed = copy.deepcopy(doc)
        node = changed
        for k in where:
            node = node[k]
        node[UNKNOWN] = True
        if not errors_of(schema, changed):
            accepted.append("/".join(map(str, where)) or "(root)")
    for a in accepted:
        print(f"{a}: an unknown member is accepted")
    if not paths:
        print("the example has no object")
    elif not accepted:
        print(f"{os.path.basename(example_path)}: an unknown member refused in each of its "
              f"{len(paths)} object(s)")
    return 1 if accepted or not paths else 0


def schema_files(folder):
    return sorted(f for f in os.listdir(folder)
                  if f.endswith(".json") and f != "catalog.json"
                  and os.path.isfile(os.path.join(folder, f)))


def check_catalog(folder, what):
    try:
        catalog = load(os.path.join(folder, "catalog.json"))
    except (OSError, ValueError) as e:
        print(f"catalog.json: {e}")
        return 1
    if what == "shape":
        errors = errors_of(CATALOG_SCHEMA, catalog)
        show(errors)
        return 1 if errors else 0
    entries = catalog.get("schemas", []) if isinstance(catalog, dict) else []
    entries = [e for e in entries if isinstance(e, dict)]
    named = [e.get("file") for e in entries]
    problems = []
    if what == "listed":
        for f in schema_files(folder):
            if f not in named:
                problems.append(f"{f} is not in the catalog")
        for f in sorted({f for f in named if named.count(f) > 1}, key=str):
            problems.append(f"{f} is listed more than once")
    elif what == "present":
        for f in named:
            if not isinstance(f, str) or not os.path.isfile(os.path.join(folder, f)):
                problems.append(f"the catalog names {f!r}, which is not in {folder}")
            elif f == "catalog.json":
                problems.append("the catalog lists itself")
    elif what == "ids":
        for e in entries:
            try:
                real = load(os.path.join(folder, e.get("file", ""))).get("$id")
            except (OSError, ValueError, TypeError) as err:
                problems.append(f"{e.get('file')!r}: {err}")
                continue
            if e.get("$id") != real:
                problems.append(f"{e.get('file')}: the catalog says {e.get('$id')!r}, "
                                f"the file {real!r}")
            if e.get("$id") != BASE + str(e.get("file")):
                problems.append(f"{e.get('file')}: $id {e.get('$id')!r} is not base + file")
    elif what == "examples":
        folder_examples = os.path.join(folder, "examples")
        present = sorted("examples/" + f for f in os.listdir(folder_examples)) \
            if os.path.isdir(folder_examples) else []
        listed = []
        for e in entries:
            stem = str(e.get("file", "")).removesuffix(".json")
            examples = e.get("examples") or []
            if not examples:
                problems.append(f"{e.get('file')}: no example")
            for x in examples:
                listed.append(x)
                m = EXAMPLE_NAME.match(os.path.basename(str(x)))
                if m is None or m.group(1) != stem or not str(x).startswith("examples/"):
                    problems.append(f"{x}: not named examples/{stem}[.VARIANT].example.json")
        for x in present:
            if x not in listed:
                problems.append(f"{x} is in the folder but not in the catalog")
        for x in listed:
            if x not in present:
                problems.append(f"the catalog names {x}, which does not exist")
    else:
        problems.append(f"unknown catalog check {what!r}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "schema":
        return check_schema(args[1])
    if len(args) == 3 and args[0] == "valid":
        return check_valid(args[1], args[2])
    if len(args) == 3 and args[0] == "closed":
        return check_closed(args[1], args[2])
    if len(args) == 3 and args[0] == "catalog":
        return check_catalog(args[1], args[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
