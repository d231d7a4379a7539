#!/usr/bin/env python3
"""schema_test.py SCHEMA SCENARIO... -- every shipped scenario validates against scenarios/schema/scenario.schema.json,
and a broken one does not (so the schema is not vacuous)."""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failed = False
    for path in sys.argv[2:]:
        errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
        expect_valid = "broken" not in path
        if bool(errors) == expect_valid:
            failed = True
            print("FAIL %s: %s" % (path, "; ".join("/".join(map(str, e.path)) + ": " + e.message for e in errors[:5])
                                   if errors else "validated but is broken"))
        else:
            print("ok   %s" % path)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
