#!/usr/bin/env python3
"""Browser test of attachments across the links (附件, DESIGN.md §4.6,
docs/DESK.md): two photos uploaded at an offline village are seen at the
county once the links come up, and the village learns that they got there.

County 360723 (大余县), township 360723101 (南安镇) and village point
360723101007 (水城村), each its own daemon, store and desk, set up as
tests/desk/desk_test.py does (Scenario.prepare): the village takes the
county's documents, the county stops, the township has never run. So the
village cannot reach any parent while its agent works: `liandong status`
must say its uplinks are not up before the upload.

1. Offline. 王小红 registers 农村危房改造 (ZJ-002) on the intake page with
   two photos, of 户口簿 and 居民身份证: a JPEG (made by the browser's own
   canvas encoder, as a phone's camera would give one) and a PNG (made here
   with zlib). The case page shows both thumbnails (naturalWidth > 0), each
   with 存放：本机 and not 已达乡镇; the viewer opens the first.
2. The township starts. Its desk is not used; the village's files reach it
   and the village's case page says 已达乡镇 (custody is asked every 10 s).
3. The county starts. 周敏 (county clerk) opens the case at the county desk:
   both thumbnails load, the viewer shows the photo large, and the bytes the
   county serves hash to the sha256 the village gave them.
4. Back at the village, both files say 已达县.

An open case page must follow a change of custody by itself, without a
reload (case.js reads a travelling file's list every 5 s): page_follows.

Screenshots go to $LIANDONG_ARTIFACTS, else BUILD/desk-artifacts/attach.
LIANDONG_KEEP=1 keeps the stores, configs and logs.
Usage: desk_attach_test.py --bin build/node/liandong
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desk_net as D  # noqa: E402
import desk_test as T  # noqa: E402
from desk_net import Fail, say, wait_for  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = T.COUNTY, T.TOWNSHIP, T.VILLAGE
AGENT, CLERK_C = T.AGENT, T.CLERK_C
CUSTODY_S = 45.0   # custody is asked upstream every 10 s; a file crosses two links
REDRAW_S = 12.0    # an open page reads a travelling file's list every 5 s (case.js)

# A photo-like JPEG from the browser's canvas: a sky-to-ground gradient, a
# "house" and noise (so that it does not shrink to one chunk), at quality
# 0.92. Returns the file as base64.
_CANVAS_JPEG = """
const [w, h] = arguments;
const c = document.createElement('canvas');
c.width = w; c.height = h;
const g = c.getContext('2d');
const sky = g.createLinearGradient(0, 0, 0, h);
sky.addColorStop(0, '#7fb2e5'); sky.addColorStop(0.55, '#d8e6f0'); sky.addColorStop(0.56, '#6b5a3e');
sky.addColorStop(1, '#3d3322');
g.fillStyle = sky; g.fillRect(0, 0, w, h);
g.fillStyle = '#a8865a'; g.fillRect(w * 0.3, h * 0.35, w * 0.4, h * 0.3);
g.strokeStyle = '#2b1d0e'; g.lineWidth = 6;
g.beginPath(); g.moveTo(w * 0.42, h * 0.36); g.lineTo(w * 0.47, h * 0.5); g.lineTo(w * 0.44, h * 0.64); g.stroke();
const img = g.getImageData(0, 0, w, h);
let s = 12345;
for (let i = 0; i < img.data.length; i += 4) {
  s = (s * 1103515245 + 12345) & 0x7fffffff;
  const n = (s >> 16) % 41 - 20;
  img.data[i] += n; img.data[i + 1] += n; img.data[i + 2] += n;
}
g.putImageData(img, 0, 0);
return c.toDataURL('image/jpeg', 0.92).split(',')[1];
"""

# The sha256 (hex) of what GET PATH answers the page, read as bytes.
_FETCH_SHA256 = """
const [path, done] = arguments;
fetch(path, {credentials: 'same-origin', cache: 'no-store'})
  .then(async (r) => {
    const buf = await r.arrayBuffer();
    const d = await crypto.subtle.digest('SHA-256', buf);
    done({status: r.status, type: r.headers.get('Content-Type'), size: buf.byteLength,
          sha: Array.from(new Uint8Array(d)).map((b) => b.toString(16).padStart(2, '0')).join('')});
  })
  .catch((e) => done({status: -1, type: '', size: 0, sha: String(e)}));
"""


class AttachScenario(T.Scenario):
    def __init__(self, net: D.Net, tmp: str, art: str):
        super().__init__(net, tmp, art)
        # Known page problems: printed, listed at the end, not failing the run.

    # --- what a page shows --------------------------------------------------------

    def thumbs_loaded(self, b: D.Browser) -> int:
        """How many thumbnails of #file-list have loaded a picture."""
        n = 0
        for i in b.els("#file-list img"):
            try:
                if b.d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i):
                    n += 1
            except D.StaleElementReferenceException:
                pass
        return n

    def custody_texts(self, b: D.Browser) -> list[str]:
        for _ in range(5):
            try:
                return [e.text for e in b.els("#file-list .custody")]
            except D.StaleElementReferenceException:
                time.sleep(0.05)
        return []

    def files(self, b: D.Browser) -> list[dict]:
        return b.api(f"/api/cases/{self.case}/files").get("files", [])

    def page_follows(self, b: D.Browser, what: str, api_says, page_shows) -> None:
        """Once the API says so (api_says(files)), the open page shows it by
        itself (page_shows()) within REDRAW_S, without a reload."""
        wait_for(f"{b.label}: the API: {what}", CUSTODY_S,
                 lambda: api_says(self.files(b)), every=0.5)
        wait_for(f"{b.label}: the open page, without a reload: {what}", REDRAW_S, page_shows,
                 every=0.2)

    def view_first(self, b: D.Browser, shot: str) -> None:
        """Opens the viewer on the first photo; checks the large picture loads."""
        b.els("#file-list .thumb-open")[0].click()
        img = b.wait_el("the viewer's large photo", "#viewer .viewer-img")
        wait_for(f"{b.label}: the viewer's photo loaded", 15, lambda: b.d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", img))
        self.note(f"{b.label}: 查看大图 {b.text('#viewer-title')!r}, "
                  f"{b.d.execute_script('return arguments[0].naturalWidth', img)} px 宽")
        b.shot(shot, full=False)
        b.click("#viewer button[type=submit]")
        wait_for(f"{b.label}: the viewer closed", 5, lambda: not b.visible("#viewer .viewer-img"))

    # --- the run --------------------------------------------------------------------

    def run(self) -> None:
        net = self.net
        self.prepare()
        states = {p: net.uplink_state(VILLAGE, p) for p in (TOWNSHIP, COUNTY)}
        if "up" in states.values() or net.nodes[TOWNSHIP].running():
            raise Fail(f"the village should have no uplink: {states}")

        a = self.browser("village-pc")
        self.step(f"1. 上联中断 ({states})：代理员登记申请，上传两张照片；办件页显示缩略图，存放：本机")
        a.go("about:blank")
        jpeg = os.path.join(self.tmp, "户口簿首页.jpg")
        with open(jpeg, "wb") as f:
            f.write(base64.b64decode(a.d.execute_script(_CANVAS_JPEG, 2000, 1500)))
        png = os.path.join(self.tmp, "居民身份证.png")
        T.write_png(png, 1600, 1200, 40)
        sizes = {os.path.basename(p): os.path.getsize(p) for p in (jpeg, png)}
        self.note(f"照片: {sizes}")

        self.first_login(a, VILLAGE, AGENT)
        a.go(self.desk(VILLAGE) + "/new.html")
        a.wait_el("the item picker", "#item-list button[data-item]")
        a.type("#item-search", "危房")
        a.wait_el(f"the item {T.ITEM} in the list", f"#item-list button[data-item='{T.ITEM}']").click()
        a.wait_el("the chosen item", "#item-chosen", text=T.ITEM_NAME)
        a.type("#applicant-name", T.APPLICANT)
        a.type("#id-number", T.ID_NUMBER)
        a.wait_el("the ID number checked as typed", "#id-number-hint.good")
        a.type("#phone", T.PHONE)
        a.type("#address", "南安镇水城村四组12号")
        a.type("#summary", "自住土坯房墙体开裂，申请农村危房改造补助")
        rows = a.els("#material-rows tr[data-material]")
        photos = {"户口簿": jpeg, "居民身份证": png}
        given = {}
        for r in rows:
            r.find_element(D.By.CSS_SELECTOR, "input[value='provided']").click()
            material = r.get_attribute("data-material")
            if material in photos:
                r.find_element(D.By.CSS_SELECTOR, "input[type=file]").send_keys(photos[material])
                given[material] = os.path.basename(photos[material])
        if len(given) != len(photos):
            raise Fail(f"{T.ITEM}'s checklist lacks {set(photos) - set(given)}")
        self.note(f"附件: {given}")
        a.shot("a01-new-with-photos")
        a.click("#submit-case")
        a.wait_el("the registered case", "#result #case-number")
        self.case = a.text("#case-number").strip()
        self.note(f"登记 {self.case}: {a.text('#result-words')}")
        a.shot("a02-new-registered")

        a.node = VILLAGE
        self.open_case(a, VILLAGE)
        wait_for("both thumbnails at the village", 15, lambda: self.thumbs_loaded(a) == 2)
        custody = self.custody_texts(a)
        self.expect(len(custody) == 2 and all("本机" in t and "已达" not in t for t in custody),
                    f"offline, the village's case page says {custody} (存放：本机 expected)")
        files = self.files(a)
        shas = {f["sha256"]: f["name"] for f in files}
        if len(shas) != 2:
            raise Fail(f"GET /api/cases/{self.case}/files names {len(shas)} files: {files}")
        self.note("村办件页: " + "；".join(f"{f['material']} {f['name']} {f['size']} 字节 "
                                           f"{f['chunks']} 块 {f['custody_zh']}" for f in files))
        a.shot("a03-village-case-offline")
        self.view_first(a, "a04-village-viewer")

        self.step("2. 乡镇开机：文件到达乡镇，村办件页显示 已达乡镇")
        net.start(TOWNSHIP)
        wait_for("the village's uplink to the township up", 30,
                 lambda: net.uplink_state(VILLAGE, TOWNSHIP) == "up", every=0.3)
        self.page_follows(
            a, "已达乡镇 for both files",
            lambda fs: len(fs) == 2 and all("township" in f.get("held_at", []) for f in fs),
            lambda: (lambda t: len(t) == 2 and all("已达乡镇" in x for x in t))(self.custody_texts(a)))
        a.shot("a05-village-case-township")

        self.step("3. 县开机：县工作人员打开办件，两张缩略图和大图都能看")
        net.start(COUNTY)
        wait_for("the township's uplink to the county up", 30,
                 lambda: net.uplink_state(TOWNSHIP, COUNTY) == "up", every=0.3)
        wait_for("the case at the county", 30, lambda: net.case(COUNTY, self.case), every=0.3)
        u = self.browser("county-pc")
        u.node = COUNTY
        self.first_login(u, COUNTY, CLERK_C)
        self.open_case(u, COUNTY)
        if self.thumbs_loaded(u) < 2:
            transit = self.custody_texts(u)
            if any("传输中" in t for t in transit):
                self.note(f"县办件页（刚打开）: {transit}")
                u.shot("a06-county-case-in-transit")
        self.page_follows(
            u, "both files whole at the county",
            lambda fs: len(fs) == 2 and all(f.get("whole") for f in fs),
            lambda: self.thumbs_loaded(u) == 2)
        self.note("县办件页: " + "；".join(self.custody_texts(u)))
        u.shot("a07-county-case")
        self.view_first(u, "a08-county-viewer")
        for sha, name in shas.items():
            got = u.d.execute_async_script(_FETCH_SHA256, f"/api/cases/{self.case}/files/{sha}")
            if got["status"] != 200 or got["sha"] != sha:
                raise Fail(f"the county serves {name} as {got} (sha256 {sha} expected)")
            self.note(f"县下载 {name}: {got['type']} {got['size']} 字节，sha256 与村一致")

        self.step("4. 回到村：两份文件都显示 已达县")
        self.page_follows(
            a, "已达县 for both files",
            lambda fs: len(fs) == 2 and all("county" in f.get("held_at", []) for f in fs),
            lambda: (lambda t: len(t) == 2 and all("已达县" in x for x in t))(self.custody_texts(a)))
        a.shot("a09-village-case-county")

        self.step("停止全部节点 (SIGTERM，退出码 0)，检查各库")
        for code in (VILLAGE, TOWNSHIP, COUNTY):
            net.check_alive()
            net.stop(code)
            net.cli("store", "check", "--data", net.nodes[code].data)
        if self.bugs:
            raise T.WrongAnswers(f"{len(self.bugs)} wrong answer(s) seen on the way:\n  - " +
                                 "\n  - ".join(self.bugs))


if __name__ == "__main__":
    sys.exit(T.main(AttachScenario, __doc__, "desk attachment test", "attach"))
