#!/usr/bin/env bash
# The main job: installs what is missing, builds, and walks one village
# agent point through the life of real cases on the embedded LMDB store:
# init, submissions, acceptance, supplement, escalation, joint handling, a
# decision, delivery, rating, fees, close, a withdrawal racing a decision
# (a conflict, then settled), and a consolidated list. Exits 0 with a
# summary; any failed step fails the run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/deploy/install-deps.sh"
build=${LIANDONG_BUILD:-$here/build}
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target liandong >/dev/null
L="$build/node/liandong"

work=$(mktemp -d /tmp/liandong-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
village="$work/360723101007"
export LIANDONG_DATA="$village"

step() { printf '\n== %s\n' "$*"; }

step "初始化村便民服务代理点 360723101007"
"$L" init --data "$village" --code 360723101007

step "代理员登记三件申请"
c1=$("$L" submit --json-out --actor 王小红 --item NC-ZJD-001 --item-name 农村宅基地建房 \
  --applicant 张三 --id-number 360723198805123417 --phone 13907970001 \
  --address 上竹乡黄沙村三组 --field 建房面积=120平方米 --field 层数=2 \
  --material 居民身份证:provided:copy --material 户口簿:provided:copy \
  --material 宅基地使用申请表:provided:original --material 村民会议意见:later \
  --fee-due 0 | sed 's/.*"case":"\([^"]*\)".*/\1/')
c2=$("$L" submit --json-out --actor 王小红 --item LY-CF-002 --item-name 林木采伐许可 \
  --applicant 李四 --id-number 360723197603021158 --field 树种=杉木 --field 蓄积量=12立方米 \
  --material 林权证:provided:copy --material 采伐申请书:provided:original --fee-due 0 \
  | sed 's/.*"case":"\([^"]*\)".*/\1/')
c3=$("$L" submit --json-out --actor 王小红 --item MZ-DB-003 --item-name 农村最低生活保障 \
  --applicant 王五 --id-number 360723195501207713 --field 家庭人口=3 \
  --material 户口簿:provided:copy --material 收入证明:missing \
  | sed 's/.*"case":"\([^"]*\)".*/\1/')
echo "登记: $c1 $c2 $c3"

step "宅基地建房: 受理、上报、并联审批、办结、回复、评价、销号"
"$L" act "$c1" accept --actor 王小红 --due 2026-12-04
"$L" act "$c1" escalate --actor 王小红 --to 360723101
"$L" act "$c1" escalate --actor 刘乡长 --role clerk --to 360723
"$L" act "$c1" assign --actor 周主任 --role clerk --dept 自然资源局 --dept 住建局 --dept 农业农村局
"$L" act "$c1" opinion --actor 赵科长 --role reviewer --dept 住建局 --approve --text 符合村庄规划
"$L" act "$c1" opinion --actor 钱科长 --role reviewer --dept 自然资源局 --approve --text 未占用基本农田
"$L" act "$c1" opinion --actor 孙科长 --role reviewer --dept 农业农村局 --approve
"$L" act "$c1" decide --actor 吴局长 --role officer --approve --basis 《中华人民共和国土地管理法》第六十二条 --certificate 乡字2026第0417号
"$L" act "$c1" deliver --actor 王小红 --method 当面送达
"$L" act "$c1" rate --actor 王小红 --score 5 --comment 不用跑县城，很满意
"$L" act "$c1" close --actor 王小红

step "低保: 一次性告知补正，补齐后受理"
"$L" act "$c3" request-supplement --actor 王小红 --missing 收入证明 --missing 村委会评议记录
"$L" act "$c3" supplement --actor 王小红 --provided 收入证明 --provided 村委会评议记录
"$L" act "$c3" accept --actor 王小红

step "林木采伐: 办结后撤回被拒绝 (本节点按流程校验)"
"$L" act "$c2" accept --actor 王小红
"$L" act "$c2" escalate --actor 王小红
"$L" act "$c2" decide --actor 陈股长 --role officer --approve --basis 《森林法》第五十六条
set +e
"$L" act "$c2" withdraw --actor 王小红 --reason 申请人改变主意 2>"$work/err"
rc=$?
set -e
[ $rc -ne 0 ] || { echo "a withdrawal after a decision must be refused at the origin"; exit 1; }
echo "本节点拒绝: $(cat "$work/err")"
"$L" act "$c2" deliver --actor 王小红
"$L" act "$c2" collect-fee --actor 王小红 --amount 15.50 --receipt 赣非税0071234

step "错误输入不写入任何数据"
before=$("$L" store check | sed 's/,.*//')
for bad in "act $c1 rate --actor 王小红 --score 9" "act 360723101007-999999 accept --actor 王小红" \
           "act $c1 accept --actor 王小红" "submit --actor 王小红 --item X --applicant 某 --home 12345"; do
  if "$L" $bad 2>"$work/err"; then echo "accepted bad input: $bad"; exit 1; fi
  echo "拒绝: $(cat "$work/err")"
done
after=$("$L" store check | sed 's/,.*//')
[ "$before" = "$after" ] || { echo "store changed on bad input"; exit 1; }

step "案件详情"
"$L" case show "$c1"

step "台帐 (本节点全部案件)"
"$L" case list

step "存储检查"
"$L" store check

closed=$("$L" case list --status closed --json | grep -o '"case"' | wc -l)
total=$("$L" case list --json | grep -o '"case"' | wc -l)
[ "$total" -eq 3 ] && [ "$closed" -eq 1 ]
printf '\nsummary: %d cases, %d closed, store consistent — demo ok\n' "$total" "$closed"
