#!/usr/bin/python3
"""The web console of a real orcad in a real browser.

Usage: [ORCA_SCREENSHOTS=DIR] console_test.py ORCAD EXAMPLES_DIR [TEST...]

Debian's chromium runs headless, driven through chromedriver by Debian's
python3-selenium (hence Debian's own /usr/bin/python3). Each test starts
orcad on free ports of 127.0.0.1 with a fresh data directory, and a billing
provider (the `http` kind) that a test can break and mend. Orders, events
and provider failures come from outside the browser; what the test checks is
what the page shows and what its buttons do. Every page must leave nothing
in the browser's console at level SEVERE (a failed request, a script error,
a blocked resource).

With ORCA_SCREENSHOTS=DIR, the pages the README shows are saved in DIR
as PNG (docs/ holds the ones the README uses).
"""

import http.server
import json
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "http"))
import api_test  # noqa: E402
from api_test import FLOW, FLOW_PATH, Node, order_with_id  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException, StaleElementReferenceException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SCREENSHOTS = None
TIMEOUT = 20


class Billing:
    """An http billing provider on 127.0.0.1: answers 500 while broken,
    else an invoice id."""

    def __init__(self):
        self.broken = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                request = json.loads(
                    self.rfile.read(int(self.headers["Content-Length"])))
                if outer.broken:
                    status, body = 500, {"error": "billing is down"}
                else:
                    status = 200
                    body = {"invoice_id": "INV-WEB-" + request["order"]["id"]}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/bill" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def browser(test, width=1280, height=800):
    profile = tempfile.TemporaryDirectory(prefix="orca-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--window-size={width},{height}",
                f"--user-data-dir={profile.name}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                              options=options)
    # The page gets WIDTH x HEIGHT: the window is as much larger as the
    # browser's own frame takes.
    driver.set_window_size(width, height)
    frame = driver.execute_script(
        "return [window.outerWidth - window.innerWidth,"
        " window.outerHeight - window.innerHeight]")
    driver.set_window_size(width + frame[0], height + frame[1])
    test.addCleanup(profile.cleanup)
    test.addCleanup(driver.quit)
    return driver


class ConsoleTest(unittest.TestCase):

    def start_node(self, extra=(), tokens=None):
        self.billing = Billing()
        self.addCleanup(self.billing.close)
        config = {"providers": {
            "notify": {"kind": "simulated"},
            "billing": {"kind": "http", "url": self.billing.url,
                        "timeout_ms": 5000}}}
        args = list(extra)
        if tokens is not None:
            self.tokens_dir = tempfile.TemporaryDirectory()
            self.addCleanup(self.tokens_dir.cleanup)
            path = os.path.join(self.tokens_dir.name, "tokens.json")
            with open(path, "w") as f:
                json.dump({"tokens": tokens}, f)
            args += ["--tokens", path]
        node = Node(config, extra=args)
        self.addCleanup(node.stop)
        self.base = "http://127.0.0.1:%d" % node.port
        return node

    def wait(self, driver, condition, what):
        try:
            # The page redraws as the stream reports changes: an element
            # found a moment ago may be gone; the condition is asked again.
            return WebDriverWait(driver, TIMEOUT, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)
            ).until(lambda d: condition())
        except Exception:
            self.fail("timed out waiting for " + what + "; the page shows: "
                      + driver.find_element(By.TAG_NAME, "body").text[:2000])

    def text(self, driver, css):
        """The text of the first element CSS finds, read again if the page
        redrew it meanwhile."""
        for _ in range(50):
            try:
                return driver.find_element(By.CSS_SELECTOR, css).text
            except StaleElementReferenceException:
                time.sleep(0.1)
        self.fail(css + " kept being redrawn")

    def find(self, driver, css):
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def button(self, driver, label):
        return self.find(driver, f'button[aria-label="{label}"]')

    def click(self, driver, label):
        """Clicks the button LABEL, found again if the page redrew it."""
        for _ in range(50):
            try:
                self.button(driver, label).click()
                return
            except (AttributeError, StaleElementReferenceException):
                time.sleep(0.1)
        self.fail("no button " + label)

    def press(self, driver, label):
        """Tabs from the top of the page to the button LABEL, then presses
        Enter: the keyboard alone."""
        driver.execute_script("document.activeElement.blur();"
                              " window.scrollTo(0, 0)")
        target = self.button(driver, label)
        for _ in range(80):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            if driver.switch_to.active_element == target:
                break
        self.assertEqual(driver.switch_to.active_element, target,
                         "Tab never reached " + label)
        ActionChains(driver).send_keys(Keys.ENTER).perform()

    def no_console_errors(self, driver, where):
        """Nothing at error level in the browser's console, and nothing the
        page loaded came from anywhere but the node."""
        severe = [e for e in driver.get_log("browser")
                  if e["level"] == "SEVERE"]
        self.assertEqual(severe, [], "console errors on " + where)
        elsewhere = driver.execute_script(
            "return performance.getEntriesByType('resource')"
            ".map(e => e.name)"
            ".filter(n => !n.startsWith(location.origin + '/'))")
        self.assertEqual(elsewhere, [], "loaded from elsewhere on " + where)

    def journey_state(self, node, order_id):
        status, body = node.json("GET", f"/v1/orders/{order_id}/journeys")
        return body["journeys"][0]["state"] if status == 200 else None

    def flow_paused(self, node):
        return node.json("GET", "/v1/flows")[1]["flows"][0]["paused"]

    def screenshot(self, driver, name):
        if SCREENSHOTS:
            os.makedirs(SCREENSHOTS, exist_ok=True)
            driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))

    def test_an_operator_watches_pauses_resumes_and_redrives(self):
        node = self.start_node()
        node.publish_example()
        for i in (1, 2):
            status, _ = node.json("POST", "/v1/orders",
                                  order_with_id(f"WEB-{i}"))
            self.assertEqual(status, 202)
        d = browser(self)

        # The root page: flows, journeys, the node's figures.
        d.get(self.base + "/")
        self.wait(d, lambda: self.find(d, 'tr[data-flow="Order to invoice"]'),
                  "the flow's row")
        self.wait(d, lambda: self.find(d, "#node-status"), "the node status")
        self.wait(d, lambda: "live" == d.find_element(By.ID, "live").text,
                  "the live stream")
        self.assertIn("Published", self.text(d, "#flow-table"))
        self.wait(d, lambda: "WEB-1" in self.text(d, "#journey-table"),
                  "the journeys")
        self.assertIn("Orders accepted\n2", self.text(d, "#node-metrics"))

        # An order submitted elsewhere appears without a reload.
        d.execute_script("window.orcaSamePage = true;")
        status, _ = node.json("POST", "/v1/orders", order_with_id("WEB-LIVE"))
        self.assertEqual(status, 202)
        self.wait(d, lambda: self.find(
            d, '#journey-table tr[data-journey^="WEB-LIVE"]'),
            "the new order's journey")
        self.assertTrue(d.execute_script("return window.orcaSamePage === true"))
        self.screenshot(d, "console-home")

        # Pause and resume by clicking.
        self.click(d, "Pause " + FLOW)
        self.wait(d, lambda: self.button(d, "Resume " + FLOW),
                  "the Resume button")
        self.assertTrue(self.flow_paused(node))
        self.assertIn("Pause Order to invoice: done", self.text(d, "#notice"))
        self.click(d, "Resume " + FLOW)
        self.wait(d, lambda: self.button(d, "Pause " + FLOW),
                  "the Pause button after resuming")
        self.assertFalse(self.flow_paused(node))

        # And with the keyboard alone: Tab to the button, then Enter. The
        # focus stays with the flow's buttons, so Enter again resumes.
        self.press(d, "Pause " + FLOW)
        self.wait(d, lambda: self.button(d, "Resume " + FLOW),
                  "the Resume button after Enter")
        self.assertTrue(self.flow_paused(node))
        self.wait(d, lambda: d.switch_to.active_element
                  == self.button(d, "Resume " + FLOW),
                  "the focus on the Resume button")
        ActionChains(d).send_keys(Keys.ENTER).perform()
        self.wait(d, lambda: self.button(d, "Pause " + FLOW),
                  "the Pause button after Enter")
        self.assertFalse(self.flow_paused(node))
        self.no_console_errors(d, "/")

        # The flow's page and its picture.
        d.find_element(By.LINK_TEXT, FLOW).click()
        self.wait(d, lambda: self.find(d, "#flow-picture svg"),
                  "the flow's picture")
        picture = d.find_element(By.CSS_SELECTOR, "#flow-picture svg")
        self.assertIn("Check header", picture.text)
        self.assertIn("Bill it", picture.text)
        self.assertIn("version 1", d.find_element(By.TAG_NAME, "main").text)
        d.execute_script(
            "document.getElementById('picture-title').scrollIntoView()")
        self.screenshot(d, "console-flow")
        self.no_console_errors(d, "the flow page")

        # Billing breaks: the journey fails once its event comes.
        self.billing.broken = True
        status, _ = node.json("POST", "/v1/orders/WEB-1/events",
                              {"type": "fulfillment_shipped"})
        self.assertEqual(status, 202)
        deadline = time.time() + TIMEOUT
        while self.journey_state(node, "WEB-1") != "failed":
            self.assertLess(time.time(), deadline, "WEB-1 did not fail")
            time.sleep(0.05)

        # Open the failed journey from the list, and redrive it.
        d.get(self.base + "/?state=failed")
        self.wait(d, lambda: self.find(
            d, '#journey-table tr[data-journey^="WEB-1"]'), "WEB-1 as failed")
        d.find_element(By.LINK_TEXT, "WEB-1").click()
        self.wait(d, lambda: self.button(d, "Redrive " + FLOW + " of WEB-1"),
                  "the Redrive button")
        self.assertIn("failed", self.text(d, "article.journey h2"))
        self.assertIn("billing is down", self.text(d, "article.journey"))
        self.screenshot(d, "console-journey")
        self.billing.broken = False
        self.click(d, "Redrive " + FLOW + " of WEB-1")
        self.wait(d, lambda: "INV-WEB-WEB-1" in self.text(
            d, "article.journey .invoice"),
            "the invoice after the redrive")
        self.wait(d, lambda: "completed" in self.text(d, "article.journey h2"),
                  "the journey completed after the redrive")
        self.assertEqual(self.journey_state(node, "WEB-1"), "completed")
        self.assertIsNone(self.button(d, "Redrive " + FLOW + " of WEB-1"))
        article = self.text(d, "article.journey")
        self.assertIn("WEB-1-FO1 WH-SEA 1 yes", article)  # fulfillment
        timeline = self.text(d, "article.journey .timeline")
        self.assertIn("step_ended Bill it failed", timeline)
        self.assertIn("step_ended Bill it succeeded", timeline)

        # A replay shows the recorded history run again.
        self.click(d, "Replay " + FLOW + " of WEB-1")
        self.wait(d, lambda: "Replay of version 1" in self.text(
            d, "article.journey .replay"), "the replay")
        self.no_console_errors(d, "the order page")

    def test_journeys_are_filtered_and_paged_and_a_draft_is_published(self):
        node = self.start_node()
        node.publish_example()
        ids = ["WEB-%03d" % i for i in range(55)]
        status, _, _ = node.call(
            "POST", "/v1/orders",
            "\n".join(order_with_id(i) for i in ids) + "\n",
            {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 202)
        deadline = time.time() + TIMEOUT
        while True:
            status, page = node.json("GET", "/v1/journeys?state=waiting"
                                     "&limit=1000")
            if len(page["journeys"]) == len(ids):
                break
            self.assertLess(time.time(), deadline, "the journeys never wait")
            time.sleep(0.1)
        d = browser(self)

        def rows():
            return [r.get_attribute("data-journey").split("\0")[0]
                    for r in d.find_elements(
                        By.CSS_SELECTOR, "#journey-table tbody tr")]

        d.get(self.base + "/")
        self.wait(d, lambda: len(rows()) == 50, "the first page of 50")
        self.assertEqual(rows(), ids[:50])
        d.find_element(By.LINK_TEXT, "Next page").click()
        self.wait(d, lambda: rows() == ids[50:], "the second page")
        self.assertIsNone(self.find(d, 'a[rel="next"]'))
        d.find_element(By.LINK_TEXT, "First page").click()
        self.wait(d, lambda: rows() == ids[:50], "the first page again")

        # Filters: by flow and by state with the form, by order id.
        Select(d.find_element(By.NAME, "flow")).select_by_value(FLOW)
        d.find_element(By.XPATH, '//button[text()="Show"]').click()
        self.wait(d, lambda: "flow=Order+to+invoice" in d.current_url
                  and rows() == ids[:50], "the flow's journeys")
        Select(d.find_element(By.NAME, "state")).select_by_value("failed")
        d.find_element(By.XPATH, '//button[text()="Show"]').click()
        self.wait(d, lambda: "state=failed" in d.current_url
                  and self.find(d, ".empty:not([hidden])"), "no failed one")
        self.assertEqual(rows(), [])
        d.get(self.base + "/?order=WEB-007")
        self.wait(d, lambda: rows() == ["WEB-007"], "the one order")
        self.no_console_errors(d, "the journey list")

        # A draft of the published flow, shown on the flow's page and
        # published from it.
        status, _ = node.json("POST", FLOW_PATH + "/pause")
        self.assertEqual(status, 200)
        with open(os.path.join(api_test.EXAMPLES, "order-to-invoice.json")) as f:
            flow = json.load(f)
        flow["steps"][0]["name"] = "Check the header"
        status, _ = node.json("PUT", FLOW_PATH, flow)
        self.assertEqual(status, 200)
        d.get(self.base + "/flows/Order%20to%20invoice")
        self.wait(d, lambda: self.find(d, "#flow-picture svg"), "the picture")
        self.assertIn("draft of version 2", self.text(d, "main .facts"))
        self.assertIn("Check the header", self.text(d, "#flow-picture"))
        d.find_element(By.LINK_TEXT, "version 1").click()
        self.wait(d, lambda: "Check header" in self.text(d, "#flow-picture"),
                  "version 1's picture")
        self.assertIn("Shown\nversion 1", self.text(d, "main .facts"))
        self.click(d, "Publish " + FLOW)
        self.wait(d, lambda: "Latest version\n2" in self.text(d, "main .facts"),
                  "version 2 published")
        self.assertEqual(node.json("GET", FLOW_PATH)[1]["version"], 2)
        self.no_console_errors(d, "the flow page")

    def test_pages_fit_a_phone_and_a_laptop(self):
        node = self.start_node()
        node.publish_example()
        status, _ = node.json("POST", "/v1/orders", order_with_id("WEB-1"))
        self.assertEqual(status, 202)
        pages = ("/", "/flows/Order%20to%20invoice", "/orders/WEB-1")
        for width, height in ((390, 844), (1280, 800)):
            d = browser(self, width, height)
            for page in pages:
                d.get(self.base + page)
                self.wait(d, lambda: self.find(d, "main h1"), page)
                self.wait(d, lambda: not self.find(d, "main .loading"), page)
                if page.startswith("/flows/"):
                    self.wait(d, lambda: self.find(d, "#flow-picture svg"),
                              "the picture")
                if page.startswith("/orders/"):
                    self.wait(d, lambda: self.find(d, "article.journey"),
                              "the journey")
                overflow = d.execute_script(
                    "return document.documentElement.scrollWidth"
                    " - document.documentElement.clientWidth")
                self.assertLessEqual(overflow, 0,
                                     f"{page} is wider than {width} px")
                self.no_console_errors(d, f"{page} at {width} px")

    def test_with_tokens_the_page_asks_for_one_and_shows_what_it_may(self):
        node = self.start_node(tokens=[
            {"token": "reader-token-0123456789", "role": "reader",
             "name": "wall"},
            {"token": "operator-token-0123456789", "role": "operator",
             "name": "ops"},
            {"token": "admin-token-0123456789", "role": "admin"}])
        admin = {"Authorization": "Bearer admin-token-0123456789"}
        node.publish_example(admin)
        status, _ = node.json("POST", "/v1/orders", order_with_id("WEB-1"),
                              admin)
        self.assertEqual(status, 202)
        d = browser(self)

        def sign_in(token):
            d.get(self.base + "/")
            self.wait(d, lambda: d.find_element(By.ID, "token-dialog")
                      .is_displayed(), "the token dialog")
            field = d.find_element(By.ID, "token-input")
            self.assertEqual(d.switch_to.active_element, field)
            field.send_keys(token, Keys.ENTER)

        sign_in("not-a-token-of-this-node")
        self.wait(d, lambda: d.find_element(By.ID, "token-error").text
                  == "unknown token", "the unknown token refused")

        d.execute_script("sessionStorage.clear()")
        sign_in("reader-token-0123456789")
        self.wait(d, lambda: self.find(d, 'tr[data-flow="Order to invoice"]'),
                  "the flows as a reader")
        self.assertIn("wall · reader", d.find_element(By.ID, "who").text)
        self.assertIsNone(self.button(d, "Pause " + FLOW))
        self.assertIsNone(self.button(d, "Stop " + FLOW))
        self.wait(d, lambda: "live" == d.find_element(By.ID, "live").text,
                  "the live stream with a token")

        d.get(self.base + "/orders/WEB-1")
        self.wait(d, lambda: self.find(d, "article.journey"), "the journey")
        self.assertIsNone(self.button(d, "Replay " + FLOW + " of WEB-1"))

        def forget():
            who = d.find_element(By.ID, "who")
            d.find_element(By.XPATH, '//button[text()="Forget token"]').click()
            def gone():
                try:
                    who.is_displayed()
                    return False
                except StaleElementReferenceException:
                    return True
            self.wait(d, gone, "the page reloaded")

        forget()
        sign_in("operator-token-0123456789")
        self.wait(d, lambda: self.button(d, "Pause " + FLOW),
                  "the Pause button as an operator")
        self.assertIsNone(self.button(d, "Stop " + FLOW))
        self.assertIsNone(self.button(d, "Publish " + FLOW))
        self.click(d, "Pause " + FLOW)
        self.wait(d, lambda: self.button(d, "Resume " + FLOW),
                  "the flow paused by an operator")
        d.get(self.base + "/orders/WEB-1")
        self.wait(d, lambda: self.button(d, "Replay " + FLOW + " of WEB-1"),
                  "Replay for an operator")

        forget()
        sign_in("admin-token-0123456789")
        self.wait(d, lambda: self.button(d, "Stop " + FLOW),
                  "the Stop button for an admin")
        self.assertIn("token · admin", self.text(d, "#who"))
        self.no_console_errors(d, "/ with tokens")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    api_test.ORCAD = sys.argv[1]
    api_test.EXAMPLES = sys.argv[2]
    SCREENSHOTS = os.environ.get("ORCA_SCREENSHOTS")
    unittest.main(argv=sys.argv[:1] + sys.argv[3:])
