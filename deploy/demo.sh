#!/usr/bin/env bash
# A walk-through at a desk: installs what is missing, builds, and walks a village agent
# point, its township hub and the county center — each its own `liandong
# run` process with its own store, linked over 127.0.0.1 — through the life
# of real cases: init, submissions, acceptance, supplement, escalation,
# joint handling, a decision, delivery, rating, fees, close, a withdrawal
# refused after the decision, actions refused to a node or role that may
# not take them, and a consolidated list. Every action is taken at the
# level and by the role that may take it (storage/authority.h). Exits 0
# with a summary; any failed step fails the run.
#
#   bash deploy/demo.sh --keep-running
# then publishes the staff roster, the catalog and the calendar, prints
# each node's desk (办事台) address with a one-time code for each person
# the roster lists there, and leaves the three nodes running for a person
# to try in a browser, until Ctrl-C.
set -euo pipefail
keep_running=0
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep_running=1 ;;
    *) echo "usage: bash deploy/demo.sh [--keep-running]" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/deploy/install-deps.sh"
build=${LIANDONG_BUILD:-$here/build}
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target liandong >/dev/null
L="$build/node/liandong"

work=$(mktemp -d /tmp/liandong-demo.XXXXXX)
pids=()
cleanup() {
  # Only the daemons this script started, by pid.
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
county="$work/360723"
township="$work/360723101"
village="$work/360723101007"
export LIANDONG_DATA="$village"

step() { printf '\n== %s\n' "$*"; }
# A field of a case as a node holds it ("" while the node has not got it).
field() { # data case key
  "$L" case show "$2" --data "$1" --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$3" 2>/dev/null || true
}
# Waits (at most 30 s) until the node holds the case with key = value.
wait_for() { # data case key value what
  for _ in $(seq 300); do
    [ "$(field "$1" "$2" "$3")" = "$4" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $5" >&2
  exit 1
}

step "初始化大余县行政服务中心 360723、南安镇便民服务中心 360723101、水城村代理点 360723101007"
for d in "$county" "$township" "$village"; do
  "$L" init --data "$d" --code "$(basename "$d")" | sed -n 1p
done
key() { # data key
  "$L" keys show --data "$1" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
peer() { # section data [endpoint]
  printf '\n[[%s]]\ncode = "%s"\n' "$1" "$(basename "$2")"
  [ -z "${3:-}" ] || printf 'endpoint = "%s"\n' "$3"
  printf 'curve_key = "%s"\nsign_key = "%s"\n' "$(key "$2" curve_key)" "$(key "$2" sign_key)"
}
read -r port_c port_t desk_c desk_t desk_v < <(python3 -c '
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
ep_c="tcp://127.0.0.1:$port_c"
ep_t="tcp://127.0.0.1:$port_t"
fast=$'\n[sync]\nheartbeat_ms = 200\npeer_timeout_ms = 1500\nack_timeout_ms = 2000\nredial_min_ms = 100\nredial_max_ms = 1000\n'
{
  printf '[node]\ncode = "360723"\ndata = "%s"\n\n[listen]\nendpoint = "%s"\n' "$county" "$ep_c"
  peer child "$township"
  peer child "$village"
  printf '%s' "$fast"
  printf '\n[desk]\nlisten = "127.0.0.1:%s"\n' "$desk_c"
} >"$work/county.toml"
{
  printf '[node]\ncode = "360723101"\ndata = "%s"\n\n[listen]\nendpoint = "%s"\n' "$township" "$ep_t"
  peer upstream "$county" "$ep_c"
  peer child "$village"
  printf '%s' "$fast"
  printf '\n[desk]\nlisten = "127.0.0.1:%s"\n' "$desk_t"
} >"$work/township.toml"
{
  printf '[node]\ncode = "360723101007"\ndata = "%s"\n' "$village"
  peer upstream "$township" "$ep_t"
  peer upstream "$county" "$ep_c"
  printf '%s' "$fast"
  printf '\n[desk]\nlisten = "127.0.0.1:%s"\n' "$desk_v"
} >"$work/village.toml"
for n in county township village; do
  "$L" config check "$work/$n.toml" >/dev/null
  "$L" run --config "$work/$n.toml" >"$work/$n.log" 2>&1 &
  pids+=($!)
done
for d in "$county" "$township" "$village"; do
  for _ in $(seq 100); do
    "$L" status --data "$d" --json 2>/dev/null | grep -q '"running":true' && break
    sleep 0.1
  done
  "$L" status --data "$d" --json | grep -q '"running":true' || { echo "$d did not start"; exit 1; }
done
echo "三级联网服务已启动并互联"
T() { "$L" "$@" --data "$township"; }
C() { "$L" "$@" --data "$county"; }

step "县发布行政区划表：各级按名称显示地点"
C publish divisions --version 1 --file "$here/config/divisions-example.toml" --actor 李建国
for _ in $(seq 300); do
  "$L" divisions show --json | grep -q '"version":1' && break
  sleep 0.1
done
"$L" divisions show | sed -n 1p

step "代理员登记三件申请"
c1=$("$L" submit --json-out --actor 王小红 --item NC-ZJD-001 --item-name 农村宅基地建房 \
  --applicant 张三 --id-number 360723198805123413 --phone 13907970001 \
  --address 南安镇水城村三组 --field 建房面积=120平方米 --field 层数=2 \
  --material 居民身份证:provided:copy --material 户口簿:provided:copy \
  --material 宅基地使用申请表:provided:original --material 村民会议意见:later \
  --fee-due 0 | sed 's/.*"case":"\([^"]*\)".*/\1/')
c2=$("$L" submit --json-out --actor 王小红 --item LY-CF-002 --item-name 林木采伐许可 \
  --applicant 李四 --id-number 360723197603021158 --field 树种=杉木 --field 蓄积量=12立方米 \
  --material 林权证:provided:copy --material 采伐申请书:provided:original --fee-due 0 \
  | sed 's/.*"case":"\([^"]*\)".*/\1/')
c3=$("$L" submit --json-out --actor 王小红 --item MZ-DB-003 --item-name 农村最低生活保障 \
  --applicant 王五 --id-number 360723195501207710 --field 家庭人口=3 \
  --material 户口簿:provided:copy --material 收入证明:missing --material 村委会评议记录:missing \
  | sed 's/.*"case":"\([^"]*\)".*/\1/')
echo "登记: $c1 $c2 $c3"
"$L" case show "$c3" | grep -E "^(状态|尚缺材料|容缺待补)"

step "宅基地建房: 村受理、转报乡镇、乡镇上报县、县并联审批、办结，村结果送达、评价、销号"
"$L" act "$c1" accept --actor 王小红 --due 2099-12-04
# 容缺受理: 村民会议意见 follows later, and must be in before 办结.
"$L" act "$c1" supplement --actor 王小红 --provided 村民会议意见
"$L" act "$c1" escalate --actor 王小红 --to 360723101
wait_for "$township" "$c1" handler 360723101 "$c1 at the township"
T act "$c1" escalate --actor 刘乡长 --role clerk --to 360723
wait_for "$county" "$c1" handler 360723 "$c1 at the county"
C act "$c1" assign --actor 周主任 --role clerk --dept 自然资源局 --dept 住建局 --dept 农业农村局
C act "$c1" opinion --actor 赵科长 --role reviewer --dept 住建局 --approve --text 符合村庄规划
C act "$c1" opinion --actor 钱科长 --role reviewer --dept 自然资源局 --approve --text 未占用基本农田
C act "$c1" opinion --actor 孙科长 --role reviewer --dept 农业农村局 --approve
C act "$c1" decide --actor 吴局长 --role officer --approve --basis 《中华人民共和国土地管理法》第六十二条 --certificate 乡字2026第0417号
wait_for "$village" "$c1" status decided "the decision on $c1 at the village"
"$L" act "$c1" deliver --actor 王小红 --method 当面送达
"$L" act "$c1" rate --actor 王小红 --score 5 --comment 不用跑县城，很满意
"$L" act "$c1" close --actor 王小红

step "低保: 补办件，登记时一次性告知所缺材料，分两次补齐后受理"
"$L" act "$c3" supplement --actor 王小红 --provided 收入证明
"$L" act "$c3" supplement --actor 王小红 --provided 村委会评议记录
"$L" act "$c3" accept --actor 王小红

step "不予受理: 登记后发现不属于本代办点受理范围，写明理由和依据"
c4=$("$L" submit --json-out --actor 王小红 --item MZ-DB-003 --item-name 农村最低生活保障 \
  --applicant 赵六 --id-number 360723195501207710 --material 户口簿:provided:copy \
  | sed 's/.*"case":"\([^"]*\)".*/\1/')
"$L" act "$c4" not-accept --actor 王小红 --reason 申请人户籍不在本村 --basis 《社会救助暂行办法》第十一条

step "林木采伐: 乡镇办结后撤回被拒绝 (本节点按流程校验)"
"$L" act "$c2" accept --actor 王小红
"$L" act "$c2" escalate --actor 王小红
wait_for "$township" "$c2" handler 360723101 "$c2 at the township"
T act "$c2" decide --actor 陈股长 --role officer --approve --basis 《森林法》第五十六条
wait_for "$village" "$c2" status decided "the decision on $c2 at the village"
set +e
"$L" act "$c2" withdraw --actor 王小红 --reason 申请人改变主意 2>"$work/err"
rc=$?
set -e
[ $rc -ne 0 ] || { echo "a withdrawal after a decision must be refused at the origin"; exit 1; }
echo "本节点拒绝: $(cat "$work/err")"
"$L" act "$c2" deliver --actor 王小红
"$L" act "$c2" collect-fee --actor 王小红 --amount 15.50 --receipt 赣非税0071234 --reason 代收林业调查设计费

step "错误输入与无权操作不写入任何办件数据 (无权操作记入审计日志)"
before=$("$L" case list --json)
for bad in "act $c1 rate --actor 王小红 --score 9" "act 360723101007-999999 accept --actor 王小红" \
           "act $c1 accept --actor 王小红" "submit --actor 王小红 --item X --applicant 某 --home 12345" \
           "act $c3 assign --actor 王小红 --dept 民政局" "act $c3 accept --actor 刘乡长 --role clerk"; do
  if "$L" $bad 2>"$work/err"; then echo "accepted bad input: $bad"; exit 1; fi
  echo "拒绝: $(cat "$work/err")"
done
after=$("$L" case list --json)
[ "$before" = "$after" ] || { echo "cases changed on bad input"; exit 1; }

step "办件详情"
"$L" case show "$c1"

step "办件台账 (本村全部办件)"
"$L" case list

step "本机联网状态"
"$L" status

step "存储检查"
"$L" store check

closed=$("$L" case list --status closed --json | grep -o '"case"' | wc -l)
total=$("$L" case list --json | grep -o '"case"' | wc -l)
[ "$total" -eq 3 ] && [ "$closed" -eq 1 ]
printf '\n共 %d 件办件，已销号 %d 件，存储一致 (summary: %d cases, %d closed, store consistent — demo ok)\n' "$total" "$closed" "$total" "$closed"

step "各节点办事台 (浏览器打开)"
for d in "$county" "$township" "$village"; do
  printf '  %s  %s\n' "$(basename "$d")" "$("$L" desk info --data "$d" | sed -n 's/^办事台地址：//p')"
done
[ "$keep_running" -eq 1 ] || exit 0

step "发布人员名册、事项目录、工作日历，为名册所列人员发放设置码"
C roster publish --version 1 --file "$here/config/roster-example.toml" --actor 李建国 >/dev/null
C catalog publish "$here/config/catalog-example.toml" --actor 李建国 >/dev/null
C calendar publish "$here/config/calendar-2026.toml" --actor 李建国 >/dev/null
C calendar publish "$here/config/calendar-2027.toml" --actor 李建国 >/dev/null
for _ in $(seq 300); do
  "$L" roster show --json | grep -q '"version":1' && break
  sleep 0.1
done
for d in "$county" "$township" "$village"; do
  url=$("$L" desk info --data "$d" | sed -n 's/^办事台地址：//p')
  names=$("$L" roster show --data "$d" --json | python3 -c '
import json, sys
code = sys.argv[1]
print(" ".join(s["name"] for s in json.load(sys.stdin)["staff"] if s["node"] == code))' "$(basename "$d")")
  for n in $names; do
    printf '  %s  %s  设置码 %s\n' "$url" "$n" \
      "$("$L" desk invite "$n" --data "$d" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')"
  done
done
echo
echo "三个节点的办事台在上列地址运行；在登录页选“首次登录”，填姓名和设置码并设置密码。按 Ctrl-C 结束。"
trap 'exit 0' INT TERM
while :; do sleep 3600; done
