#!/usr/bin/env bash
# Imports hostile files with the real `hearth import` (release build) and reports the
# peak resident memory and the wall time of each, at two sizes per kind so the growth
# shows: a zip bomb, a 100/200 MB string, a 50k/100k-step reasoning chain, and
# 500k/1M unclosed citation markers. The goal (docs/PERFORMANCE.md, "Hostile imports"):
# every one under 512 MiB, and time growing linearly with the input. Nothing is asserted.
#
# Usage: scripts/bench-hostile-imports.sh [work dir]   (default: target/bench-hostile)
# Needs python3 and GNU time (/usr/bin/time -v). Takes a few minutes.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/target/bench-hostile}"
mkdir -p "$work"
cargo build --release -p hearth-cli --manifest-path "$root/Cargo.toml" >&2
hearth="$root/target/release/hearth"

python3 - "$work" <<'PY'
import json, os, sys, zipfile

work = sys.argv[1]

def conversation(cid, nodes, current, title="Bench"):
    return {"title": title, "create_time": 1700000000.0, "update_time": 1700000001.0,
            "conversation_id": cid, "current_node": current, "default_model_slug": "gpt-4o",
            "mapping": {n["id"]: n for n in nodes}}

def node(nid, parent, children, role=None, content=None):
    message = None if role is None else {
        "id": nid, "author": {"role": role}, "create_time": 1700000000.5, "recipient": "all",
        "content": content, "metadata": {}}
    return {"id": nid, "parent": parent, "children": children, "message": message}

def text(t):
    return {"content_type": "text", "parts": [t]}

def small(cid):
    return conversation(cid, [node("u", None, ["a"], "user", text("Hi")),
                              node("a", "u", [], "assistant", text("Hello"))], "a")

def write(name, conversations):
    with open(os.path.join(work, name), "w") as f:
        json.dump(conversations, f)

# A zip bomb: valid JSON, then whitespace that deflates a thousandfold.
for mib in (256, 1024):
    path = os.path.join(work, f"bomb-{mib}.zip")
    if not os.path.exists(path):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            with z.open("conversations.json", "w", force_zip64=True) as f:
                f.write(json.dumps([small("bomb")])[:-1].encode() + b",")
                chunk = b" " * (1 << 20)
                for _ in range(mib):
                    f.write(chunk)
                f.write(b"]")

# One huge string: a message (the 261 KB zip of the report inflated to such a title).
for mb in (100, 200):
    huge = conversation("huge", [node("u", None, [], "user", text("x" * (mb * 1000 * 1000)))], "u")
    write(f"string-{mb}mb.json", [small("before"), huge, small("after")])

# A long chain of reasoning steps before one reply.
for steps in (50_000, 100_000):
    nodes = [node("u", None, ["t0"], "user", text("Think"))]
    for k in range(steps):
        nodes.append(node(f"t{k}", "u" if k == 0 else f"t{k-1}", [f"t{k+1}" if k + 1 < steps else "a"],
                          "assistant", {"content_type": "thoughts",
                                        "thoughts": [{"summary": f"Step {k}", "content": "y" * 150}]}))
    nodes.append(node("a", f"t{steps-1}", [], "assistant", text("Done.")))
    write(f"reasoning-{steps // 1000}k.json", [conversation("chain", nodes, "a")])

# Unclosed citation markers in one reply.
for markers in (500_000, 1_000_000):
    reply = "a\ue200" * markers + "【" * markers
    nodes = [node("u", None, ["a"], "user", text("Cite")), node("a", "u", [], "assistant", text(reply))]
    write(f"citations-{markers // 1000}k.json", [conversation("cite", nodes, "a")])
PY

printf '%-24s %10s %12s %10s  %s\n' "input" "file MiB" "peak RSS MiB" "wall s" "result"
for input in bomb-256.zip bomb-1024.zip string-100mb.json string-200mb.json \
             reasoning-50k.json reasoning-100k.json citations-500k.json citations-1000k.json; do
  data="$(mktemp -d "$work/vault.XXXXXX")"
  export HEARTH_PASSPHRASE="bench passphrase"
  "$hearth" --data-dir "$data" init --passphrase --no-keychain >/dev/null 2>&1
  set +e
  /usr/bin/time -v -o "$work/time.txt" "$hearth" --data-dir "$data" import "$work/$input" \
    >/dev/null 2>"$work/stderr.txt"
  status=$?
  set -e
  rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  size=$(stat -c %s "$work/$input")
  result="exit $status: $(tail -n 1 "$work/stderr.txt" | cut -c1-110)"
  printf '%-24s %10.1f %12.1f %10.2f  %s\n' "$input" "$(echo "$size / 1048576" | bc -l)" \
    "$(echo "$rss_kib / 1024" | bc -l)" "$seconds" "$result"
  rm -rf "$data"
done
