#!/usr/bin/env python3
"""Drives the cashier page /shop through a network cut in headless Chromium, over the DevTools protocol.

usage: offline_page.py flow BASE_URL SHOP_KEY VALID_CODE REVOKED_CODE SHORT_NUMBER ONLINE_CODE
       offline_page.py verdicts BASE_URL SHOP_KEY QUESTIONS_JSON_FILE

flow: signs the device in with the shop key, waits for the snapshot and the Service Worker, verifies ONLINE_CODE online and
then again with the server unreachable (requests failed while the browser believes it is online), cuts the network
(the page and the Service Worker both), reloads, verifies the other codes offline, restores the network, waits for
the queue to upload and sends the same records again. Every response carries the Content-Security-Policy of
deploy/nginx/yongjun.conf, as in production, and the page's violations are reported.

verdicts: signs the device in, then asks the page's verifier (offline-verify.js) about the codes and snapshots of
the file, and reports its answers with the snapshot and the instant it used.

Prints one JSON object with what the page showed at each step; on a timeout it prints what it has so far with
"error" set and exits 1. Stdlib only: the protocol runs over --remote-debugging-pipe (fds 3 and 4), so no websocket
client and no port to pick.
"""
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import threading
import time


class Chromium:
    """Headless Chromium and a DevTools session over its pipe: commands, events, and flattened target sessions."""

    def __init__(self, profile):
        commands_read, commands_write = os.pipe()
        replies_read, replies_write = os.pipe()
        # The child's ends move to 10 and up first, so putting them at 3 and 4 in the child cannot overwrite either.
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_read, replies_write))
        for fd in (commands_read, replies_write):
            os.close(fd)

        def plumb():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=390,900", "about:blank"],
            preexec_fn=plumb, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(child_in)
        os.close(child_out)
        self.commands = os.fdopen(commands_write, "wb", buffering=0)
        self.replies = replies_read
        self.next_id = 0
        self.results = {}
        self.events = []
        self.handlers = {}
        self.unanswered = set()
        self.changed = threading.Condition()
        self.writing = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        pending = b""
        while True:
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                return
            pending += chunk
            *messages, pending = pending.split(b"\0")
            events = []
            with self.changed:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" not in message:
                        events.append(message)
                    elif message["id"] not in self.unanswered:
                        self.results[message["id"]] = message
                self.events += events
                self.changed.notify_all()
            for event in events:
                if event["method"] in self.handlers:
                    self.handlers[event["method"]](event["params"], event.get("sessionId"))

    def write(self, method, params, session, answered):
        with self.writing:
            self.next_id += 1
            number = self.next_id
            if not answered:
                self.unanswered.add(number)
            message = {"id": number, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            self.commands.write(json.dumps(message).encode() + b"\0")
        return number

    def post(self, method, params=None, session=None):
        """Sends a command without waiting for its answer: what handlers, which run on the reading thread, must do."""
        self.write(method, params, session, answered=False)

    def on(self, method, handler):
        """Calls `handler(params, session)` for each `method` event, on the reading thread."""
        self.handlers[method] = handler

    def send(self, method, params=None, session=None, timeout=15):
        number = self.write(method, params, session, answered=True)
        with self.changed:
            if not self.changed.wait_for(lambda: number in self.results, timeout):
                raise TimeoutError(f"{method} got no answer")
            reply = self.results.pop(number)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def events_named(self, method):
        with self.changed:
            return [event for event in self.events if event["method"] == method]

    def wait_for_event(self, method, match, timeout=15):
        """The first `method` event whose params `match` accepts, waiting for it if need be."""
        def found():
            return next((e for e in self.events if e["method"] == method and match(e["params"])), None)

        with self.changed:
            if not self.changed.wait_for(found, timeout):
                raise TimeoutError(f"no {method} event")
            return found()

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Page:
    """The page target and every Service Worker the browser attaches. Each is set up before it runs: the network cut
    must reach both, and every response gets the Content-Security-Policy nginx adds in production."""

    def __init__(self, browser, csp):
        self.browser = browser
        self.csp = csp
        self.unreachable = False
        self.offline = False
        self.lose_answers = 0
        browser.on("Target.attachedToTarget", self.attached)
        browser.on("Fetch.requestPaused", self.paused)
        browser.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True})
        # The tab Chromium opened at start (about:blank), attached as it stands.
        tab = browser.wait_for_event("Target.attachedToTarget", lambda params: params["targetInfo"]["type"] == "page")
        self.session = tab["params"]["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send("Page.addScriptToEvaluateOnNewDocument", {"source": VIOLATIONS}, session=self.session)
        patterns = [{"urlPattern": "*", "requestStage": "Response"}, {"urlPattern": "*/shop/verify", "requestStage": "Request"}]
        browser.send("Fetch.enable", {"patterns": patterns}, session=self.session)

    def attached(self, params, _):
        """A Service Worker gets the network conditions and the CSP before its script runs."""
        session = params["sessionId"]
        if params["targetInfo"]["type"] == "service_worker":
            self.browser.post("Network.enable", session=session)
            if self.offline:
                self.browser.post("Network.emulateNetworkConditions", self.conditions(), session=session)
            self.browser.post("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Response"}]}, session=session)
        if params.get("waitingForDebugger"):
            self.browser.post("Runtime.runIfWaitingForDebugger", session=session)

    def paused(self, params, session):
        request = params["requestId"]
        if "responseErrorReason" in params:
            self.browser.post("Fetch.failRequest", {"requestId": request, "errorReason": params["responseErrorReason"]}, session=session)
        elif "responseStatusCode" in params and self.lose_answers and params["request"]["url"].endswith("/shop/verify"):
            # The server answered; the answer is lost on its way back (a weak signal), as the server cannot know.
            self.lose_answers -= 1
            self.browser.post("Fetch.failRequest", {"requestId": request, "errorReason": "ConnectionReset"}, session=session)
        elif "responseStatusCode" in params:
            # Fulfilled with the body rather than continued: Chromium enforces a policy only from headers it parses itself.
            threading.Thread(target=self.add_policy, args=(params, session), daemon=True).start()
        elif self.unreachable:
            self.browser.post("Fetch.failRequest", {"requestId": request, "errorReason": "ConnectionRefused"}, session=session)
        else:
            self.browser.post("Fetch.continueRequest", {"requestId": request}, session=session)

    def add_policy(self, params, session):
        """Answers a paused response with its own status, headers and body, plus the Content-Security-Policy."""
        request = params["requestId"]
        try:
            body = self.browser.send("Fetch.getResponseBody", {"requestId": request}, session=session)
        except RuntimeError:  # no body (a redirect, a 204): nothing a policy could govern
            self.browser.post("Fetch.continueResponse", {"requestId": request}, session=session)
            return
        data = body["body"] if body.get("base64Encoded") else base64.b64encode(body["body"].encode()).decode()
        headers = params.get("responseHeaders", []) + [{"name": "Content-Security-Policy", "value": self.csp}]
        fulfilled = {"requestId": request, "responseCode": params["responseStatusCode"], "responseHeaders": headers, "body": data}
        self.browser.post("Fetch.fulfillRequest", fulfilled, session=session)

    def workers(self):
        attached = self.browser.events_named("Target.attachedToTarget")
        detached = {event["params"]["sessionId"] for event in self.browser.events_named("Target.detachedFromTarget")}
        return [
            event["params"]["sessionId"] for event in attached
            if event["params"]["targetInfo"]["type"] == "service_worker" and event["params"]["sessionId"] not in detached
        ]

    def evaluate(self, expression):
        reply = self.browser.send(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session=self.session
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(reply["exceptionDetails"].get("text", "exception"))
        return reply["result"].get("value")

    def worker_fetch(self, path):
        """What a fetch from inside each Service Worker meets: proof that a network cut reaches the worker too."""
        expression = f"fetch({json.dumps(path)}, {{cache: 'no-store'}}).then(() => 'reached', () => 'failed')"
        return [
            self.browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session=session)
            .get("result", {}).get("value")
            for session in self.workers()
        ]

    def wait_until(self, expression, what, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
                if value:
                    return value
            except RuntimeError:
                pass  # between two documents
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}")

    def conditions(self):
        return {"offline": self.offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}

    def network(self, online):
        """Cuts or restores the network for the page and every Service Worker (one that starts later gets it in `attached`)."""
        self.offline = not online
        for session in [self.session] + self.workers():
            try:
                self.browser.send("Network.emulateNetworkConditions", self.conditions(), session=session)
            except RuntimeError:
                pass  # a worker that stopped meanwhile


READY = "(() => { const s = document.getElementById('offline-status'); return !!s && s.dataset.state === 'ready'; })()"
STATUS = "(() => { const s = document.getElementById('offline-status'); return s && { state: s.dataset.state, "
STATUS += "text: s.textContent, queued: Number(document.getElementById('queue-count').dataset.count) }; })()"
ANSWER = "(() => { const r = document.querySelector('#answer .result'); return r && { class: r.className, "
ANSWER += "reason: r.dataset.reason || null, offline: r.dataset.offline === 'true', text: r.innerText }; })()"
# Content-Security-Policy violations on the page, kept across reloads; and a probe that the policy is in force.
VIOLATIONS = """document.addEventListener('securitypolicyviolation', (event) => {
    const seen = JSON.parse(sessionStorage.getItem('violations') || '[]');
    seen.push(event.effectiveDirective + ' ' + (event.blockedURI || 'inline') + ' ' + (event.sourceFile || ''));
    sessionStorage.setItem('violations', JSON.stringify(seen)); }, true);"""
INLINE_BLOCKED = """new Promise((resolve) => { const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true'; document.head.append(script); setTimeout(() => resolve(!window.inlineRan), 100); })"""

QUEUE = """(async () => { const db = await new Promise((resolve, reject) => { const r = indexedDB.open('yongjun-shop');
    r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    return new Promise((resolve) => { const q = db.transaction('queue').objectStore('queue').getAll(); q.onsuccess = () => resolve(q.result); }); })()"""
VERDICTS = """(async () => { const db = await new Promise((resolve, reject) => { const r = indexedDB.open('yongjun-shop');
    r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    const token = await new Promise((resolve) => { const q = db.transaction('snapshot').objectStore('snapshot').get('current');
    q.onsuccess = () => resolve(q.result); });
    const input = %s, snapshot = await YongjunOffline.open(token), now = Date.now(), verdicts = [], snapshots = [];
    for (const code of input.codes) { const verdict = await YongjunOffline.check(code, snapshot, now);
      verdicts.push(verdict.reason || 'valid ' + YongjunOffline.categoryLabel(verdict.claims.cat)); }
    for (const other of input.snapshots) { const opened = await YongjunOffline.open(other);
      snapshots.push(opened.problem || (await YongjunOffline.check(input.codes[0], opened, now)).reason || 'valid'); }
    return { snapshot: token, now, verdicts, snapshots }; })()"""
RESEND = """fetch('/api/v1/verifications/offline', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(%s)}).then((r) => r.json())"""


def submit(page, code):
    page.evaluate(f"""(() => {{ document.getElementById('answer').replaceChildren();
        const form = document.getElementById('verify-form'); form.elements.code.value = {json.dumps(code)}; form.requestSubmit(); }})()""")


def answer(page, code):
    submit(page, code)
    # The page answers in well under a second; under the whole suite on 2 cores an offline check took over 15 s once.
    return page.wait_until(ANSWER, "an answer", timeout=30)


def answer_server_unreachable(page, code):
    """The answer when the browser believes it is online but requests to the server fail (a dead uplink)."""
    page.unreachable = True
    try:
        return answer(page, code)
    finally:
        page.unreachable = False


def answer_reply_lost(page, code):
    """The answer when the server's first reply to the page's verification is lost on the way back (it was recorded)."""
    page.lose_answers = 1
    try:
        submit(page, code)
        # Two tries of up to 8 and 5 s on a loaded machine, then the answer.
        shown = page.wait_until(ANSWER, "an answer after a lost reply", timeout=30)
        return {**(shown or {}), "lost": page.lose_answers == 0}
    finally:
        page.lose_answers = 0


def nginx_csp():
    """The Content-Security-Policy the production nginx site adds to every response."""
    site = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "nginx", "yongjun.conf")
    with open(site, encoding="utf-8") as file:
        for line in file:
            words = line.split(None, 2)
            if words[:2] == ["add_header", "Content-Security-Policy"]:
                return words[2].split('"')[1]
    raise RuntimeError("no Content-Security-Policy in deploy/nginx/yongjun.conf")


def sign_in(page, base, key):
    """Signs the device in on /shop with the shop key, as a cashier would, and waits for the first snapshot."""
    page.browser.send("Page.navigate", {"url": base + "/shop"}, session=page.session)
    page.wait_until("!!document.getElementById('key')", "the sign-in form")
    page.evaluate(f"document.getElementById('key').value = {json.dumps(key)}; document.getElementById('key').form.submit()")
    page.wait_until(READY, "the snapshot")


def flow(page, report, base, key, valid, revoked, short_number, online_code, lost_code):
    sign_in(page, base, key)
    page.wait_until("(async () => !!navigator.serviceWorker.controller && !!(await caches.match('/shop')))()", "the Service Worker")
    report["synced"] = page.evaluate(STATUS)
    report["online"] = answer(page, online_code)
    report["lostAnswer"] = answer_reply_lost(page, lost_code)
    # Used online a moment ago; now the server is out of reach though the browser thinks it is online.
    report["unreachable"] = answer_server_unreachable(page, online_code)
    reached = page.worker_fetch("/healthz")

    page.network(online=False)
    page.wait_until("!navigator.onLine", "the page to see the network gone")
    report["workerFetch"] = {"online": reached, "offline": page.worker_fetch("/healthz")}
    before = len(page.browser.events_named("Network.responseReceived"))
    page.browser.send("Page.reload", session=page.session)
    page.wait_until(READY, "the page to open offline")
    documents = [
        event["params"]["response"] for event in page.browser.events_named("Network.responseReceived")[before:]
        if event.get("sessionId") == page.session and event["params"]["type"] == "Document"
    ]
    report["reloaded"] = {
        "status": page.evaluate(STATUS), "form": page.evaluate("!!document.getElementById('verify-form')"),
        "online": page.evaluate("navigator.onLine"),
        "fromServiceWorker": [d.get("fromServiceWorker", False) for d in documents],
    }
    report["answers"] = {
        "valid": answer(page, valid), "again": answer(page, valid), "revoked": answer(page, revoked), "short": answer(page, short_number),
    }
    # The count is refreshed after the record's IndexedDB transaction completes, a moment after the answer shows.
    try:
        page.wait_until("(() => document.getElementById('queue-count').dataset.count === '5')()", "five records queued")
    except TimeoutError:
        pass  # the report below then shows the count the page settled on, and the test names it
    report["queued"] = page.evaluate(STATUS)
    records = page.evaluate(QUEUE)

    page.network(online=True)
    page.wait_until("(() => document.getElementById('queue-count').dataset.count === '0')()", "the queue to upload")
    report["uploaded"] = page.evaluate(STATUS)
    # A device that lost the answer sends the same records again: the server must know them all by nonce.
    report["resent"] = page.evaluate(RESEND % json.dumps({"records": records}))
    report["csp"] = {
        "policy": page.csp, "violations": page.evaluate("JSON.parse(sessionStorage.getItem('violations') || '[]')"),
        "inlineBlocked": page.evaluate(INLINE_BLOCKED),
    }


def verdicts(page, report, base, key, questions_file):
    """The page script's answers to QUESTIONS_FILE, {"codes": […], "snapshots": […]}: its verdict on each code with the
    snapshot it synced ("valid" with the category's label), and for each other snapshot its problem or its verdict on
    the first code. Reports them with the synced snapshot and the instant used, so the caller can ask YongjunVerifier
    the same questions."""
    sign_in(page, base, key)
    with open(questions_file, encoding="utf-8") as file:
        questions = json.load(file)
    report.update(page.evaluate(VERDICTS % json.dumps(questions)))


def main():
    mode, arguments = sys.argv[1], sys.argv[2:]
    report = {}
    with tempfile.TemporaryDirectory(prefix="yongjun-offline-") as profile:
        browser = Chromium(profile)
        try:
            page = Page(browser, nginx_csp())
            {"flow": flow, "verdicts": verdicts}[mode](page, report, *arguments)
        except (TimeoutError, RuntimeError, OSError) as error:
            report["error"] = str(error)
        finally:
            browser.close()
    print(json.dumps(report, ensure_ascii=False))
    sys.exit(1 if "error" in report else 0)


if __name__ == "__main__":
    main()
