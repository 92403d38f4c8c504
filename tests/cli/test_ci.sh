#!/bin/bash
# test_ci.sh: romfs ci (pack, reproducibility, structure, signature, board checks, one
# report in every format) and romfs pack --reproducible across mtimes, umask, creation
# order and locale. Reports are parsed by Python (json, xml.etree) as the consumers would.
. "$(dirname "$0")/lib.sh"

# A board database of our own: one roomy memory-mapped partition, one 256-byte one.
write_boards() {
    cat > boards.json <<'EOF'
{
  "schema": 1,
  "micropython": {"version": "test", "commit": null},
  "boards": [
    {"board": "CI_ROOMY", "port": "nrf", "mcu": "NRF52840",
     "romfs": [{"index": 0, "start": "0xb0000", "size": "0x40000", "erase_block": 4096,
                "write_block": 4, "mmap": true, "source": "test: 256K"}]},
    {"board": "CI_TINY", "port": "qemu", "mcu": "none",
     "romfs": [{"index": 0, "start": "0x20000", "size": "0x100", "erase_block": 256,
                "write_block": 1, "mmap": true, "source": "test: 256 bytes"}]}
  ]
}
EOF
}

make_tree() {
    mkdir -p app/lib
    printf 'print("hello")\n' > app/main.py
    printf 'X = 1\n' > app/lib/util.py
    head -c 1000 /dev/zero | tr '\0' 'B' > app/asset.bin
}

test_ci_dir_passes() {
    write_boards; make_tree
    expect_exit 0 "$ROMFS" ci --boards boards.json --board CI_ROOMY app
    expect_stdout "PASS pack"
    expect_stdout "PASS reproducible"
    expect_stdout "PASS structure"
    expect_stdout "CI_ROOMY partition 0"
    expect_stderr "0 failed"
    "$ROMFS" pack app -o ref.romfs >/dev/null
    sha=$(sha256sum ref.romfs | cut -d' ' -f1)
    expect_exit 0 "$ROMFS" ci --boards boards.json --board CI_ROOMY app --image-out out.romfs -f json
    same_bytes ref.romfs out.romfs
    grep -q "sha256 $sha" err.txt || fail "summary lacks the image's sha256 $sha"
    grep -q "\"$sha\"" out.txt || fail "JSON report lacks the image's sha256 $sha"
    expect_exit 0 "$ROMFS" ci --boards boards.json --board CI_ROOMY app -q
    [ ! -s err.txt ] || fail "-q printed to stderr"
}

test_ci_failing_board_fails_with_report() {
    write_boards; make_tree
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY,CI_TINY app -o report.txt
    grep -q "FAIL fits" report.txt || fail "report lacks the failing fits check"
    grep -q "CI_TINY partition 0" report.txt || fail "report lacks the CI_TINY suite"
    expect_stderr "first failure: CI_TINY partition 0"
    assert_file_absent report.txt.tmp
}

test_ci_formats_parse() {
    write_boards; make_tree
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY -b CI_TINY app -f junit -o r.xml
    python3 - <<'EOF'
import xml.etree.ElementTree as ET
root = ET.parse("r.xml").getroot()
assert root.tag == "testsuites", root.tag
suites = {s.get("name"): s for s in root.findall("testsuite")}
assert set(suites) == {"image", "CI_ROOMY partition 0", "CI_TINY partition 0"}, suites.keys()
names = [c.get("name") for c in suites["image"].findall("testcase")]
assert names == ["pack", "reproducible", "structure"], names
failed = [(s.get("name"), c.get("name")) for s in root.findall("testsuite")
          for c in s.findall("testcase") if c.find("failure") is not None]
assert failed == [("CI_TINY partition 0", "fits")], failed
assert root.get("failures") == "1", root.get("failures")
EOF
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY -b CI_TINY app -f json
    cp out.txt r.json
    python3 - <<'EOF'
import json
r = json.load(open("r.json"))
assert r["failed"] == 1 and r["passed"] >= 10, (r["passed"], r["failed"])
EOF
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_TINY app -f github
    grep -q "^::error" out.txt || fail "no ::error annotation"
    expect_exit 2 "$ROMFS" ci --boards boards.json -b CI_ROOMY app -f xml
}

test_ci_signature() {
    write_boards; make_tree
    "$ROMFS" keygen dev >/dev/null
    "$ROMFS" keygen other >/dev/null
    "$ROMFS" pack app -o app.romfs >/dev/null
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY --key dev.pub.pem app.romfs
    expect_stdout "FAIL signature"
    expect_stdout "not signed"
    "$ROMFS" sign app.romfs --key dev.pem -o signed.romfs >/dev/null
    expect_exit 0 "$ROMFS" ci --boards boards.json -b CI_ROOMY --key dev.pub.pem signed.romfs
    expect_stdout "PASS signature"
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY --key other.pub.pem signed.romfs
    expect_stdout "signed by key"
    # pack + sign + check in one go; the kept image verifies on its own
    expect_exit 0 "$ROMFS" ci --boards boards.json -b CI_ROOMY --sign dev.pem --key dev.pub.pem \
        --image-out rel.romfs app
    expect_stdout "PASS sign"
    expect_exit 0 "$ROMFS" verify rel.romfs --key dev.pub.pem
    same_bytes rel.romfs signed.romfs
}

test_ci_input_errors() {
    write_boards; make_tree
    expect_exit 2 "$ROMFS" ci --boards boards.json -b NO_SUCH_BOARD app
    expect_stderr "unknown board 'NO_SUCH_BOARD'"
    expect_exit 2 "$ROMFS" ci --boards boards.json -b CI_ROOMY missing-dir
    expect_exit 2 "$ROMFS" ci --boards boards.json
    echo "junk" > junk.romfs
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY junk.romfs
    expect_stdout "FAIL structure"
    expect_exit 0 "$ROMFS" ci --help
}

test_ci_pack_options_pass_through() {
    write_boards; make_tree
    expect_exit 0 "$ROMFS" ci --boards boards.json -b CI_ROOMY --align 64 --image-out a64.romfs app
    python3 "$PY_READER" a64.romfs --check-align 64 >/dev/null || fail "--align 64 not passed to pack"
    expect_exit 1 "$ROMFS" ci --boards boards.json -b CI_ROOMY --size-limit 100 app
    expect_stdout "FAIL pack"
    expect_stdout "CI_ROOMY partition 0"   # boards still reported (failed: no image)
}

# The same tree, made differently, packs to the same bytes.
test_pack_reproducible_across_machines() {
    mkdir a b
    (cd a && umask 022 && mkdir -p lib/sub && printf 'one' > lib/sub/x.py && printf 'two\n' > main.py \
        && head -c 3000 /dev/zero | tr '\0' 'Z' > big.bin && printf '' > empty && mkdir emptydir \
        && touch -d '2001-01-01' main.py lib/sub/x.py)
    (cd b && umask 077 && printf '' > empty && head -c 3000 /dev/zero | tr '\0' 'Z' > big.bin \
        && mkdir emptydir && printf 'two\n' > main.py && mkdir lib && mkdir lib/sub \
        && printf 'one' > lib/sub/x.py && touch -d '2030-06-15' main.py big.bin)
    LC_ALL=C "$ROMFS" pack --reproducible a -o a.romfs >/dev/null
    locale=$(locale -a 2>/dev/null | grep -i -m1 -E '^(en_US|de_DE|C)\.utf-?8$' || echo C.UTF-8)
    LC_ALL=$locale TZ=Asia/Tokyo "$ROMFS" pack --reproducible b -o b.romfs >/dev/null
    same_bytes a.romfs b.romfs
    # and an unchanged tree packed later gives the same bytes too
    touch a/main.py
    "$ROMFS" pack --reproducible a -o a2.romfs >/dev/null
    same_bytes a.romfs a2.romfs
    # a content change does show
    printf 'three\n' > b/main.py
    "$ROMFS" pack --reproducible b -o b2.romfs >/dev/null
    ! cmp -s a.romfs b2.romfs || fail "different content packed to the same bytes"
}

# The workflow template's romfs steps run as written (with our test boards), so the
# example stays in step with the options it uses.
test_workflow_template_runs() {
    python3 -c 'import yaml' 2>/dev/null || skip "PyYAML not installed: the workflow template cannot be read"
    write_boards; make_tree
    expect_exit 0 "$ROMFS" ci --print-workflow
    cp out.txt workflow.yml
    mkdir -p bin keys tmp
    ln -s "$ROMFS" bin/romfs
    "$ROMFS" keygen keys/release >/dev/null
    python3 - <<'EOF'
import os, subprocess, sys
import yaml
wf = yaml.safe_load(open("workflow.yml"))
env = dict(os.environ)
env.update({k: str(v) for k, v in wf["env"].items()})
env.update({"BOARDS": "CI_ROOMY", "ROMFS_BOARDS": os.path.abspath("boards.json"),
            "PATH": os.path.abspath("bin") + ":" + env["PATH"],
            "RUNNER_TEMP": os.path.abspath("tmp"),
            "ROMFS_SIGNING_KEY": open("keys/release.pem").read()})
steps = {s.get("name"): s for s in wf["jobs"]["image"]["steps"]}
for name in ["romfs ci", "JUnit report", "Sign", "Check the signature"]:
    step = steps[name]
    p = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("step %r failed (%d): %s %s" % (name, p.returncode, p.stdout, p.stderr))
assert os.path.exists("romfs-report.xml")
assert not os.path.exists("tmp/release.pem"), "private key left behind"
EOF
    expect_exit 0 "$ROMFS" verify app.romfs --key keys/release.pub.pem
}

# A packed directory is never signed: --key without --sign could only fail.
test_ci_key_with_a_dir_needs_sign() {
    write_boards; make_tree
    "$ROMFS" keygen dev >/dev/null
    expect_exit 2 "$ROMFS" ci --boards boards.json -b CI_ROOMY --key dev.pub.pem -o r.xml app
    expect_stderr "is a directory"
    expect_stderr "--sign"
    assert_file_absent r.xml
    expect_exit 0 "$ROMFS" ci --boards boards.json -b CI_ROOMY --sign dev.pem --key dev.pub.pem app
    expect_stdout "PASS signature"
}

# README's `romfs ci` example, run as written (the built-in boards.json, examples/app).
test_readme_ci_example_passes() {
    cp -r "$ROMFS_SOURCE_DIR/examples/app" app
    line=$(grep -E '^romfs ci --board' "$ROMFS_SOURCE_DIR/README.md")
    [ -n "$line" ] || fail "no 'romfs ci --board' example in README.md"
    "$ROMFS" keygen release >/dev/null
    read -r -a words <<< "${line%%#*}"
    [ "${words[0]}" = romfs ] || fail "$line"
    (unset ROMFS_BOARDS; expect_exit 0 "$ROMFS" "${words[@]:1}")
    python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse("report.xml").getroot(); assert r.get("failures") in ("0", None), r.attrib'
}

# Every board the printed workflow names by default has a ROMFS partition that holds an app.
test_workflow_default_boards_check() {
    cp -r "$ROMFS_SOURCE_DIR/examples/app" app
    "$ROMFS" ci --print-workflow > wf.yml
    boards=$(sed -n 's/^  BOARDS: *\([^ #]*\).*/\1/p' wf.yml)
    opts=$(sed -n 's/^  PACK_OPTIONS: *\([^#]*\)#.*/\1/p' wf.yml)
    [ -n "$boards" ] || fail "no BOARDS in the workflow"
    "$ROMFS" pack $opts app -o app.romfs -q
    IFS=, read -r -a list <<< "$boards"
    for b in "${list[@]}"; do
        (unset ROMFS_BOARDS; "$ROMFS" check app.romfs --board "$b") > "check-$b.txt" 2>&1 ||
            fail "default workflow board $b: $(cat "check-$b.txt")"
    done
    [ "${#list[@]}" -ge 2 ] || fail "only ${#list[@]} default board"
}

t test_ci_dir_passes
t test_ci_key_with_a_dir_needs_sign
t test_readme_ci_example_passes
t test_workflow_default_boards_check
t test_ci_failing_board_fails_with_report
t test_ci_formats_parse
t test_ci_signature
t test_ci_input_errors
t test_ci_pack_options_pass_through
t test_pack_reproducible_across_machines
t test_workflow_template_runs
