"""The cockpit in a real browser: Debian's Chromium, driven by Playwright.

    python3 tests/python/browser.py URL ARTEFACTS_DIR UPLOAD_CSV ADMIN PASSWORD CLERK PASSWORD \
        OFFICER PASSWORD RESEARCHER PASSWORD

Signs in as the bureau's administrator (the accounts the demo printed), opens each page of a
running cockpit, finds its charts, follows a drill-down from the bureau
to a district, a school and its classes, switches to English and back, sets a date range,
uploads a file through the upload page, checks every link on the way, and fails on any
console error, failed request or broken link. Screenshots of each page (desktop and phone)
are written to ARTEFACTS_DIR.
"""

import datetime
import os
import re
import sys
import time
from urllib.parse import urljoin, urlparse

from playwright.sync_api import sync_playwright

BASE, ARTEFACTS, UPLOAD = sys.argv[1].rstrip("/") + "/", sys.argv[2], sys.argv[3]
ADMIN, ADMIN_PASSWORD, CLERK, CLERK_PASSWORD = sys.argv[4:8]
OFFICER, OFFICER_PASSWORD, RESEARCHER, RESEARCHER_PASSWORD = sys.argv[8:12]
os.makedirs(ARTEFACTS, exist_ok=True)
CHROMIUM = os.environ.get("EDULAKE_CHROMIUM", "/usr/bin/chromium")

problems = []
checked = {}


def fail(msg):
    problems.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def watch(page):
    page.on("console", lambda m: m.type == "error" and fail(f"console error on {page.url}: {m.text}"))
    page.on("pageerror", lambda e: fail(f"page error on {page.url}: {e}"))
    # A load cut short by the next navigation (ERR_ABORTED) is the browser's doing, not ours.
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and fail(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and fail(f"HTTP {r.status}: {r.url}"))


def check_links(page, context):
    """Every link of the page that stays in the cockpit answers (each URL once)."""
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    for href in hrefs:
        url = urljoin(page.url, href)
        if urlparse(url).netloc != urlparse(BASE).netloc or url in checked:
            continue
        r = context.request.get(url)
        checked[url] = r.status
        if r.status >= 400:
            fail(f"broken link on {page.url}: {href} -> {r.status}")


def shot(page, name):
    page.screenshot(path=os.path.join(ARTEFACTS, f"{name}.png"), full_page=True)


def charts(page, at_least, where):
    n = page.locator("svg").count()
    if n < at_least:
        fail(f"{where}: {n} charts, expected at least {at_least}")


def chart_text(page, at_least, where):
    """The smallest tick label of the page's charts, in screen pixels, is at least `at_least`."""
    px = page.evaluate("""() => Math.min(...[...document.querySelectorAll('.chart svg')].flatMap(svg => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('text.tick')]
            .filter(t => getComputedStyle(t).display !== 'none')
            .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
    }))""")
    if not px >= at_least:
        fail(f"{where}: chart labels of {px:.1f}px, expected at least {at_least}px")


def no_overflow(page, where):
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wide > 1:
        fail(f"{where}: the page is {wide}px wider than a phone screen")


def sign_in(page, login, password, name=None):
    """Signs in through the sign-in page, as a user would."""
    page.goto(BASE)
    if "/login" not in page.url:
        fail(f"the cockpit did not ask to sign in: {page.url}")
    if name:
        shot(page, name)
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.locator("form.sign-in button").click()
    page.wait_for_load_state()
    if "/login" in page.url:
        fail(f"signing in as {login} failed: {visible_text(page)[:300]}")


def visible_text(page):
    return page.evaluate("document.body.innerText")


with sync_playwright() as p:
    # Chromium now and then dies as it starts on a loaded machine (its zygote fails to
    # fork): that is not the cockpit's fault, so a launch is tried three times.
    for attempt in range(3):
        try:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--no-zygote",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            break
        except Exception as e:  # noqa: BLE001
            if attempt == 2:
                raise
            print(f"chromium did not start ({str(e).splitlines()[0]}); trying again", file=sys.stderr)
    desktop = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = desktop.new_page()
    watch(page)

    # Nothing is shown before signing in; the administrator lands on the overview.
    sign_in(page, ADMIN, ADMIN_PASSWORD, "00-sign-in")

    # The overview, in Chinese by default.
    page.goto(BASE)
    if page.locator("html").get_attribute("lang") != "zh-CN":
        fail("the overview is not in Chinese by default")
    for word in ["总览", "出勤率", "健康打卡率", "今日未报送学校", "学校分布图"]:
        if word not in visible_text(page):
            fail(f"overview: {word} not shown")
    charts(page, 5, "overview")
    chart_text(page, 12, "overview")
    shot(page, "01-overview")
    check_links(page, desktop)

    # Drill down: a district from the comparison, a school from its comparison, its classes.
    page.locator("section a[href^='/district/']").first.click()
    page.wait_for_load_state()
    if "/district/" not in page.url:
        fail(f"the district link led to {page.url}")
    charts(page, 4, "district")
    shot(page, "02-district")
    check_links(page, desktop)
    page.locator("section a[href^='/school/']").first.click()
    page.wait_for_load_state()
    if "/school/" not in page.url:
        fail(f"the school link led to {page.url}")
    text = visible_text(page)
    for word in ["各班出勤", "在籍学生（按年级）", "生师比", "长期缺勤率", "各通知查阅率"]:
        if word not in text:
            fail(f"school page: {word} not shown")
    charts(page, 3, "school")
    shot(page, "03-school")
    check_links(page, desktop)
    # On to one class, from the school's chart of its classes.
    page.locator(".chart a[href*='/class/']").first.click()
    page.wait_for_load_state()
    if "/class/" not in page.url:
        fail(f"the class link led to {page.url}")
    text = visible_text(page)
    for word in ["出勤率（逐日）", "班级上报（逐日）", "健康打卡率（逐日）", "发热人数（逐日）"]:
        if word not in text:
            fail(f"class page: {word} not shown")
    charts(page, 2, "class")
    shot(page, "03b-class")
    check_links(page, desktop)

    # The map's points are links to the schools.
    page.goto(BASE)
    point = page.locator("svg a[href^='/school/']").first
    if point.count() == 0:
        fail("the map has no clickable school")
    else:
        point.click()
        page.wait_for_load_state()
        if "/school/" not in page.url:
            fail(f"a map point led to {page.url}")

    # The districts' boundaries under the schools: each shaded by its rate, a link to its page.
    page.goto(BASE)
    areas = page.locator("svg.map a[href^='/district/'] path.area")
    if areas.count() < 2:
        fail(f"the map draws {areas.count()} district(s)")
    else:
        titles = page.eval_on_selector_all("svg.map path.area title", "els => els.map(e => e.textContent)")
        if not any(re.search(r"\d%$", t) for t in titles):
            fail(f"no district on the map says its rate: {titles}")
        page.locator("svg.map a[href^='/district/']").first.click(position={"x": 5, "y": 5}, force=True)
        page.wait_for_load_state()
        if "/district/" not in page.url:
            fail(f"a district of the map led to {page.url}")

    # Filters: a school type and a grade, chosen in the form, said on the page and kept.
    page.goto(BASE)
    page.select_option("select[name=school_type]", "primary")
    page.select_option("select[name=grade]", "3")
    page.locator("form.range button").click()
    page.wait_for_load_state()
    if "已筛选：小学 · 三年级" not in visible_text(page):
        fail(f"the filters are not said: {page.url}")
    hrefs = page.eval_on_selector_all("main a[href^='/district/'], main a[href^='/download?indicator=']",
                                      "els => els.map(e => e.getAttribute('href'))")
    if not hrefs or not all("school_type=primary" in h and "grade=3" in h for h in hrefs):
        fail(f"a link forgets the filters: {hrefs[:5]}")
    charts(page, 3, "filtered overview")
    shot(page, "01c-overview-filtered")

    # The date range: every page keeps it. Three weeks up to the latest day, whatever the
    # date the test runs on (the demo publishes a notice every fifth school day, so the
    # notices page below always has some in this range).
    page.goto(BASE)
    to = page.locator("input[name=to]").input_value()
    start = (datetime.date.fromisoformat(to) - datetime.timedelta(days=20)).isoformat()
    page.fill("input[name=from]", start)
    page.locator("form.range button").click()
    page.wait_for_load_state()
    if "from=" + start not in page.url:
        fail(f"the date range was not applied: {page.url}")
    hrefs = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
    if not all(("from=" + start) in h for h in hrefs):
        fail(f"the navigation forgets the date range: {hrefs}")

    # The reporting page: reporting over time, each district compared, whom to remind.
    page.goto(BASE)
    page.locator("nav a[href^='/reporting']").click()
    page.wait_for_load_state()
    text = visible_text(page)
    for word in ["上报情况", "上报学校数（逐日）", "班级上报（逐日）", "学生考勤上报率（逐日）", "班级上报率比较", "今日未报送学校"]:
        if word not in text:
            fail(f"reporting page: {word} not shown")
    charts(page, 5, "reporting")
    shot(page, "05b-reporting")
    check_links(page, desktop)
    page.locator(".chart a[href*='/reporting?district=']").first.click()
    page.wait_for_load_state()
    if "district=" not in page.url or "上报情况 · " not in page.locator("h1").inner_text():
        fail(f"a district of the reporting chart led to {page.url}")

    # Every point and bar says its value on hover.
    page.goto(BASE)
    titles = page.eval_on_selector_all(".chart svg title", "els => els.map(e => e.textContent)")
    if len(titles) < 20 or not all(re.search(r"\d", t) for t in titles):
        fail(f"the charts' values on hover: {titles[:5]}")
    # A 7-day range changes every chart: no point outside it, at most seven days drawn.
    page.locator("form.range a.preset").first.click()
    page.wait_for_load_state()
    start = page.locator("input[name=from]").input_value()
    end = page.locator("input[name=to]").input_value()
    if (datetime.date.fromisoformat(end) - datetime.date.fromisoformat(start)).days != 6:
        fail(f"近7天 gave {start} – {end}")
    for i in range(page.locator(".chart svg").count()):
        chart = page.locator(".chart svg").nth(i)
        days = {t.split(":")[0] for t in chart.locator("title").all_text_contents()
                if re.match(r"\d{4}-\d{2}-\d{2}:", t)}
        if any(d < start or d > end for d in days) or len(days) > 7:
            fail(f"chart {i} draws days outside {start} – {end}: {sorted(days)}")
    shot(page, "01b-overview-7-days")
    page.goto(BASE)

    # English one click away, every word of the page translated.
    page.locator("a.lang").click()
    page.wait_for_load_state()
    text = visible_text(page)
    if page.locator("html").get_attribute("lang") != "en" or "Attendance rate" not in text:
        fail("the language switch did not give English")
    # Data (school and district names) stays as it is; no word of the cockpit may.
    for word in ["出勤率", "总览", "下载", "预警", "学校分布图", "最新日期", "较上周"]:
        if word in text:
            fail(f"English overview still says {word}")
    shot(page, "04-overview-en")
    page.locator("a.lang").click()
    page.wait_for_load_state()
    if "出勤率" not in visible_text(page):
        fail("the switch back to Chinese failed")

    # Notices and data pages.
    page.locator("nav a[href^='/notices']").click()
    page.wait_for_load_state()
    charts(page, 1, "notices")
    shot(page, "05-notices")
    check_links(page, desktop)
    notice = page.locator("section a[href^='/notices?notice=']").first
    notice.click()
    page.wait_for_load_state()
    if "各学校查阅情况" not in visible_text(page):
        fail("a notice's page does not show its schools")
    shot(page, "06-notice")
    page.locator("nav a[href^='/data']").click()
    page.wait_for_load_state()
    if "已接收的批次" not in visible_text(page):
        fail("the data page does not list the batches")
    # The demo's folder source, pulled beside the uploads.
    if "自动读取的数据源" not in visible_text(page) or "缺勤登记" not in visible_text(page):
        fail("the data page does not show the demo's folder source")
    else:
        # Pulled beside the cockpit already: its register taken (and stored nothing twice).
        cells = page.locator("section:has(h2:text('自动读取的数据源')) tbody tr").first.locator("td").all_text_contents()
        if len(cells) < 8 or cells[7] != "1" or cells[4] == "从未":
            fail(f"the demo's source has not been pulled: {cells}")
    shot(page, "07-data")
    check_links(page, desktop)

    # The upload page: a file with one bad row; its result and its reject report.
    page.locator("nav a[href^='/upload']").click()
    page.wait_for_load_state()
    shot(page, "08-upload")
    page.select_option("select[name=dataset]", "attendance")
    page.set_input_files("input[type=file]", UPLOAD)
    # First the preview: what the file would become, nothing stored; then the clerk confirms.
    page.locator("form.upload button[value=preview]").click()
    page.wait_for_load_state()
    text = visible_text(page)
    for said in ["入库前预览", "各列含义", "确认入库"]:
        if said not in text:
            fail(f"the upload preview does not show {said}: {text[:500]}")
    no_overflow(page, "upload preview")
    shot(page, "09-upload-preview")
    page.locator("section.confirm form[action^='/upload/confirm'] button").click()
    page.wait_for_load_state()
    text = visible_text(page)
    name = os.path.basename(UPLOAD)
    # One bad row: the file is partly stored, said in amber, never a green "已入库".
    if name not in text or "部分入库：1 行被拒收" not in text or "1 个文件部分行被拒收" not in text:
        fail(f"the upload result does not show {name} partly stored: {text[:500]}")
    # Why, in Chinese: the row, its value and what the column takes.
    if "“不知道”不是有效的考勤状态（可填：出勤、迟到" not in text:
        fail(f"the upload result does not say why in Chinese: {text[:800]}")
    shot(page, "09-upload-result-stored")
    report = page.locator("a[href^='/rejects/']")
    if report.count() != 1:
        fail("the upload result has no reject report link")
    else:
        r = desktop.request.get(urljoin(page.url, report.get_attribute("href")))
        if r.status != 200 or not r.body().startswith(b"\xef\xbb\xbf"):
            fail(f"the reject report did not download: {r.status}")
    check_links(page, desktop)
    # The cockpit shows the upload within seconds.
    day = re.search(r"\d{4}-\d{2}-\d{2}", open(UPLOAD, encoding="utf-8").read().split("\n")[1]).group(0)
    seen = False
    deadline = time.time() + 30
    while time.time() < deadline:
        page.goto(BASE)
        if f"最新日期 {day}" in visible_text(page):
            seen = True
            break
        page.wait_for_timeout(200)
    if not seen:
        fail(f"the overview does not show the uploaded day {day} within 30 s")

    # On a phone: nothing wider than the screen; tables scroll inside their box.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    ppage = phone.new_page()
    watch(ppage)
    sign_in(ppage, ADMIN, ADMIN_PASSWORD, "10-phone-sign-in")
    for path, name in [("", "10-phone-overview"), ("notices", "11-phone-notices"), ("upload", "12-phone-upload"),
                       ("reporting", "11b-phone-reporting"), ("data", "11c-phone-data"),
                       ("?school_type=junior&grade=7", "10b-phone-overview-filtered")]:
        ppage.goto(BASE + path)
        no_overflow(ppage, f"phone {path or 'overview'}")
        if path in ("", "reporting"):
            chart_text(ppage, 10, f"phone {path or 'overview'}")
        shot(ppage, name)
    # Down to a class on a phone, by the charts' links.
    ppage.goto(BASE)
    for selector, name in [(".chart a[href^='/district/']", "11d-phone-district"),
                           (".chart a[href^='/school/']", "11e-phone-school"),
                           (".chart a[href*='/class/']", "11f-phone-class")]:
        ppage.locator(selector).first.click()
        ppage.wait_for_load_state()
        no_overflow(ppage, name)
        chart_text(ppage, 10, name)
        shot(ppage, name)
    # The preview on a phone: its tables scroll in their boxes; cancelled, nothing is stored.
    # (Another file than the one stored above: that one would be "already ingested".)
    phone_file = os.path.join(ARTEFACTS, "phone-upload.csv")
    with open(UPLOAD, encoding="utf-8") as src, open(phone_file, "w", encoding="utf-8") as dst:
        dst.write(src.read().rstrip("\n") + "\n")
        dst.write("\n")
    ppage.goto(BASE + "upload")
    ppage.select_option("select[name=dataset]", "attendance")
    ppage.set_input_files("input[type=file]", phone_file)
    ppage.locator("form.upload button[value=preview]").click()
    ppage.wait_for_load_state()
    if "确认入库" not in visible_text(ppage):
        fail("the phone's upload preview offers no confirmation")
    no_overflow(ppage, "phone upload preview")
    shot(ppage, "12-phone-upload-preview")
    ppage.locator("section.confirm form[action^='/upload/cancel'] button").click()
    ppage.wait_for_load_state()
    if "已取消" not in visible_text(ppage):
        fail("cancelling the phone's preview did not say so")

    # The administrator's accounts page.
    page.goto(BASE + "users")
    if "账户管理" not in visible_text(page) or "clerk" not in visible_text(page):
        fail("the accounts page does not list the accounts")
    shot(page, "16-users")

    # A school's clerk lands on its school's page and sees no other.
    clerk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    cpage = clerk.new_page()
    watch(cpage)
    sign_in(cpage, CLERK, CLERK_PASSWORD)
    if "/school/" not in cpage.url:
        fail(f"the clerk landed on {cpage.url}, not its school")
    shot(cpage, "13-clerk-school")
    hrefs = cpage.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
    if any(h.startswith("/notices") for h in hrefs):
        fail(f"the clerk's navigation offers the bureau's pages: {hrefs}")
    for path in ["", "notices", "district/x"]:
        r = clerk.request.get(BASE + path, max_redirects=0)
        if r.status not in (303, 403):
            fail(f"the clerk opened /{path}: {r.status}")
    check_links(cpage, clerk)

    # A district officer lands on its district; its navigation and links stay inside it.
    officer = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    opage = officer.new_page()
    watch(opage)
    sign_in(opage, OFFICER, OFFICER_PASSWORD)
    if "/district/" not in opage.url:
        fail(f"the officer landed on {opage.url}, not its district")
    shot(opage, "14-officer-district")
    check_links(opage, officer)

    # A researcher has no school pages: its account page holds the SQL form and the views.
    researcher = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    rpage = researcher.new_page()
    watch(rpage)
    sign_in(rpage, RESEARCHER, RESEARCHER_PASSWORD)
    if "/account" not in rpage.url or rpage.locator("form.sql textarea").count() != 1:
        fail(f"the researcher landed on {rpage.url} without the SQL form")
    shot(rpage, "15-researcher-account")
    with rpage.expect_download() as got:
        rpage.locator("form.sql button").click()
    body = open(got.value.path(), encoding="utf-8-sig").read()
    if not body.startswith("district,school_code,school_name,period_start"):
        fail(f"the researcher's query did not answer: {body[:200]}")
    r = researcher.request.get(BASE + "sql?format=csv&q=SELECT%20*%20FROM%20attendance", max_redirects=0)
    if r.status != 400:
        fail(f"the researcher read the rows per student: {r.status}")
    browser.close()

print(f"browser: {len(checked)} links checked, {len(problems)} problem(s); screenshots in {ARTEFACTS}")
if problems:
    sys.exit(1)
