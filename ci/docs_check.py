"""make run's API docs, as a person sees them: a headless Chromium (Debian's) opens
http://127.0.0.1:PORT/_docs/ on a gateway started as `make run` starts it, sees every route each
service declares, and makes one authorized call through Swagger UI's "Try it out" and "Execute"
(the development token the page carries must get a 200 from a JWT route). Every file the page
loads must come from the gateway: the browser may resolve no other host.

    python3 -m ci.docs_check --local-api PATH --docs SWAGGER_UI_DIR

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe), so the check
needs no driver and no websocket library."""
import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ci import declarations
from ci import servers


class Browser:
    """Headless Chromium, one page, commands over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary, profile):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire():  # the browser's end of both pipes on fds 3 and 4 (moved up first: they may be 3 or 4)
            read, write = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-extensions", "--disable-background-networking",
             f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
            preexec_fn=wire, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def send(self, method, session=None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_browser, 65536)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url):
        self.send("Page.navigate", session=self.session, url=url)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", session=self.session, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, what, seconds=30):
        """The value of `expression` once it is truthy."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"docs-check: the page never showed {what} ({seconds} s)")

    def close(self):
        self.process.kill()
        self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)


# Each operation Swagger UI renders, as "METHOD /path".
OPERATIONS = """[...document.querySelectorAll('.opblock-summary')].map(s =>
  s.querySelector('.opblock-summary-method').textContent + ' ' +
  s.querySelector('.opblock-summary-path').getAttribute('data-path'))"""


def check(browser, base):
    for service, declaration in declarations.every():
        browser.open(f"{base}/_docs/?urls.primaryName={service}")
        expected = sorted(declaration["routes"])
        # Ready when the chosen document's operations have all rendered.
        shown = browser.wait_for(f"(() => {{ const o = {OPERATIONS}; return o.length >= {len(expected)} && o; }})()",
                                 f"{service}'s {len(expected)} routes")
        if sorted(shown) != expected:
            raise AssertionError(f"docs-check: {service}'s page shows {sorted(shown)}, service.json declares {expected}")
        print(f"docs-check: {service}: every declared route is on the page ({len(expected)})")

    # One call through the UI: GET /items, expanded, "Try it out", "Execute".
    browser.open(f"{base}/_docs/?urls.primaryName=items")
    block = browser.wait_for("""(() => {
      const block = [...document.querySelectorAll('.opblock')].find(b =>
        b.querySelector('.opblock-summary-method').textContent === 'GET' &&
        b.querySelector('.opblock-summary-path').getAttribute('data-path') === '/items');
      if (!block) return false;
      if (!block.classList.contains('is-open')) block.querySelector('.opblock-summary-control').click();
      return '#' + block.id; })()""", "GET /items")
    browser.wait_for(f"(() => {{ const b = document.querySelector('{block} .try-out__btn'); b && b.click(); return !!b; }})()",
                     'GET /items\' "Try it out" button')
    browser.wait_for(f"(() => {{ const b = document.querySelector('{block} button.execute'); b && b.click(); return !!b; }})()",
                     'GET /items\' "Execute" button')
    status = browser.wait_for(
        f"document.querySelector('{block} .live-responses-table tbody .response-col_status')?.textContent.trim()",
        "the answer to GET /items")
    body = browser.evaluate(f"document.querySelector('{block} .live-responses-table .microlight')?.textContent || ''")
    if not status.startswith("200") or '"items"' not in body:
        raise AssertionError(f"docs-check: Try it out on GET /items answered {status}: {body[:300]}")
    print("docs-check: Try it out: GET /items answered 200 with the development token")

    # Everything the page loaded came from the gateway.
    loaded = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    foreign = [url for url in loaded if not url.startswith(base + "/")]
    if foreign:
        raise AssertionError(f"docs-check: the page loaded files from elsewhere: {foreign}")
    print(f"docs-check: all {len(loaded)} files the page loaded came from the gateway")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local-api", required=True)
    parser.add_argument("--docs", required=True, help="swagger-ui-py's Swagger UI directory")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    profile = tempfile.mkdtemp()
    gateway = servers.LocalAPI(args.local_api, "--in-memory", "--docs", args.docs, log=os.path.join(profile, "gateway.log"))
    browser = None
    try:
        browser = Browser(args.chromium, profile)
        check(browser, gateway.endpoint)
    except AssertionError as failure:
        print(failure, file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.close()
        gateway.stop()
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
