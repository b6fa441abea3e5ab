#!/usr/bin/env bash
# Least privilege while reel keeps root:
#   1. `--user` with an unknown name fails at once with a message naming the user.
#   2. `reel record --user U` runs the app as U (uid, primary gid, HOME, USER), checked both by
#      what the app writes to a file and by what it answers over HTTP.
#   3. Under sudo (SUDO_UID/SUDO_GID), every file and directory of the recording belongs to the
#      invoking user and none is world-readable; reel's CA key stays root's, 0600.
#   4. `reel test`, `mock`, `trace` and `redirect` run their command as the --user too.
source "$(dirname "$0")/lib.sh"
LP_USER=""
cleanup_lp() {
  [[ -n $LP_USER ]] && userdel "$LP_USER" 2>/dev/null || true
  cleanup
}
trap cleanup_lp EXIT

# --- 1. unknown user ----------------------------------------------------------------------------
set +e
"$REEL" record -p "$WORK/none" --user reel-no-such-user -- true > "$WORK/unknown.out" 2>&1
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "--user with an unknown user succeeded"
grep -q "unknown user 'reel-no-such-user'" "$WORK/unknown.out" || { cat "$WORK/unknown.out"; fail "no clear error"; }
[[ ! -e $WORK/none ]] || fail "an unknown user still created the recording directory"
pass "unknown --user is refused before anything starts: $(head -1 "$WORK/unknown.out")"

# --- 2. the app runs as the user ----------------------------------------------------------------
if command -v useradd > /dev/null; then
  LP_USER=reel-lp-$$
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$LP_USER"
  U=$LP_USER
else
  U=nobody
fi
U_UID=$(id -u "$U")
U_GID=$(id -g "$U")
OUT=$WORK/out
mkdir -m 0777 "$OUT"
cat > "$WORK/app.py" <<'PY'
import http.server, os, sys
port, out = int(sys.argv[1]), sys.argv[2]
with open(os.path.join(out, "id"), "w") as f:
    f.write(f"{os.getuid()} {os.getgid()} {os.environ.get('USER')} {os.environ.get('HOME')}\n")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"uid={os.getuid()} gid={os.getgid()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
chmod 0644 "$WORK/app.py"
PORT=$(free_port)
REC=$WORK/rec
# A user other than the app's owns the files: SUDO_UID as sudo would set it.
SUDO_UID=4242 SUDO_GID=4343 "$REEL" record -p "$REC" --app-port "$PORT" --user "$U" \
  -- python3 "$WORK/app.py" "$PORT" "$OUT" > "$WORK/rec.out" 2> "$WORK/rec.err" &
RPID=$!
STARTED_PIDS+=("$RPID")
wait_port "$PORT"
body=$(curl -sSf "http://127.0.0.1:$PORT/whoami") || { cat "$WORK/rec.err"; fail "GET /whoami"; }
[[ $body == "uid=$U_UID gid=$U_GID" ]] || fail "app answered '$body', expected uid=$U_UID gid=$U_GID"
read -r a_uid a_gid a_user a_home < "$OUT/id"
[[ $a_uid == "$U_UID" && $a_gid == "$U_GID" ]] || fail "app ran as $a_uid:$a_gid, not $U ($U_UID:$U_GID)"
[[ $a_user == "$U" && $a_home == "$(getent passwd "$U" | cut -d: -f6)" ]] || fail "USER=$a_user HOME=$a_home"
[[ $(stat -c %u "$OUT/id") == "$U_UID" ]] || fail "the app's file is not owned by $U"
pass "reel record --user $U: the app ran as uid $a_uid gid $a_gid, USER=$a_user HOME=$a_home"

deadline=$((SECONDS + 15))
until [[ $(ls "$REC/test-set-0/tests" 2>/dev/null | wc -l) -ge 1 ]]; do
  ((SECONDS < deadline)) || { cat "$WORK/rec.err"; fail "no test case on disk"; }
  sleep 0.05
done
kill -INT "$RPID"
wait "$RPID" || true

# --- 3. who owns what reel wrote ----------------------------------------------------------------
[[ $(stat -c '%u:%g' "$REC") == 4242:4343 ]] || fail "$REC is $(stat -c '%u:%g' "$REC")"
wrong_owner=$(find "$REC" \( ! -uid 4242 -o ! -gid 4343 \) -printf '%u:%g %p\n')
[[ -z $wrong_owner ]] || fail "not owned by SUDO_UID:SUDO_GID: $wrong_owner"
world=$(find "$REC" -perm /o=rwx -printf '%m %p\n')
[[ -z $world ]] || fail "open to everyone: $world"
n=$(find "$REC" | wc -l)
pass "all $n paths under the recording are 4242:4343 with no world bits ($(stat -c %a "$REC/test-set-0") set dir, $(stat -c %a "$REC/test-set-0/tests/test-1.yaml") test)"
find "$REC" -name '*key*' -printf '%m %u %p\n' | grep -q '^600 4242 ' || fail "no 0600 redaction key"
pass "redaction key: $(find "$REC" -name '*key*' -printf '%m %u:%g %f')"

# --- 4. the other commands that start a command -------------------------------------------------
rm -f "$OUT/id"
"$REEL" test -p "$REC" --user "$U" -- python3 "$WORK/app.py" "$PORT" "$OUT" > "$WORK/test.out" 2>&1 \
  || { cat "$WORK/test.out"; fail "reel test --user $U"; }
read -r a_uid _ < "$OUT/id"
[[ $a_uid == "$U_UID" ]] || fail "reel test ran the app as uid $a_uid"
pass "reel test --user $U: the replayed app ran as uid $a_uid and its tests passed"
for cmd in "mock -p $REC" "trace --format json" "redirect --to builtin"; do
  name=${cmd%% *}
  # shellcheck disable=SC2086
  "$REEL" $cmd --user "$U" -- sh -c "id -u > $OUT/$name.id; id -G >> $OUT/$name.id" \
    > "$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out"; fail "reel $name --user $U"; }
  [[ $(head -1 "$OUT/$name.id") == "$U_UID" ]] || fail "reel $name ran the command as uid $(head -1 "$OUT/$name.id")"
  [[ $(tail -1 "$OUT/$name.id") == "$(id -G "$U")" ]] || fail "reel $name: groups $(tail -1 "$OUT/$name.id")"
done
pass "reel mock, trace and redirect --user $U: the command ran as uid $U_UID with groups $(id -G "$U")"

CRT=$("$REEL" ca path)
KEY=$(dirname "$CRT")/ca.key
[[ -f $KEY ]] || fail "no CA key next to $CRT"
[[ $(stat -c '%a %u' "$KEY") == "600 0" ]] || fail "CA key is $(stat -c '%a %u' "$KEY")"
pass "reel's CA key stays root's: $(stat -c '%a %U' "$KEY") $KEY"
echo "least_privilege: $CHECKS checks passed"
