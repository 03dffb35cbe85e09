#!/usr/bin/env python3
"""Turns a PostgreSQL text-format COPY dump into multi-row INSERT … ON CONFLICT DO UPDATE statements,
ROWS rows a statement: what the Python ETL sent with psycopg2's execute_values.

usage: copy_to_sql.py DUMP TABLE KEY_COLUMNS COLUMNS ROWS > out.sql   (KEY_COLUMNS and COLUMNS comma-separated)
"""
import sys

dump, table, keys, columns, per = (sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(","),
                                   int(sys.argv[5]))
ESC = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}

def field(text):
    if text == "\\N":
        return "NULL"
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(ESC.get(text[i + 1], text[i + 1])); i += 2
        else:
            out.append(c); i += 1
    return "'" + "".join(out).replace("'", "''") + "'"

head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES\n"
tail = (f"\nON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys) + ";\n")
w = sys.stdout.write
batch = []
with open(dump, encoding="utf-8") as f:
    for line in f:
        batch.append("(" + ", ".join(field(x) for x in line.rstrip("\n").split("\t")) + ")")
        if len(batch) == per:
            w(head + ",\n".join(batch) + tail); batch = []
if batch:
    w(head + ",\n".join(batch) + tail)
