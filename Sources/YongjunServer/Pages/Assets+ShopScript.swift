extension Assets {
    /// Served at /assets/shop.js: on the cashier page, keeps the shop snapshot in IndexedDB, verifies through the form
    /// route while the server answers and offline when it does not, queues offline records and uploads them when back online.
    static let shopScript = #"""
        // The cashier page without a network: keeps the shop snapshot, answers offline, and uploads what it answered.
        "use strict";
        (function () {
          const offline = self.YongjunOffline, benefits = self.YongjunBenefit;
          const form = document.getElementById("verify-form");
          const answer = document.getElementById("answer");
          const status = document.getElementById("offline-status");
          if (!offline || !benefits || !form || !answer || !status || !window.indexedDB) return;
          const input = form.elements.code, csrf = form.elements.csrf;
          const syncAge = document.getElementById("sync-age"), queueCount = document.getElementById("queue-count");
          // Longer input is no code (CodeVerifier.maximumLength) and not worth a record; uploads stay under nginx's 64k
          // body limit and the server's 500 records.
          const longestRecord = 2048, uploadRecords = 500, uploadBytes = 60000;
          let database = null, snapshot = null, busy = false, uploading = false;

          if ("serviceWorker" in navigator) navigator.serviceWorker.register("/shop/sw.js", { scope: "/shop" }).catch(() => {});

          const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
          const finished = (t) => new Promise((resolve, reject) => { t.oncomplete = resolve; t.onerror = t.onabort = () => reject(t.error); });

          function open() {
            const opening = indexedDB.open("yongjun-shop", 1);
            opening.onupgradeneeded = () => {
              opening.result.createObjectStore("snapshot");
              opening.result.createObjectStore("queue", { keyPath: "nonce" });
              opening.result.createObjectStore("uses", { keyPath: "key" });
            };
            return request(opening);
          }

          const usable = () => snapshot !== null && !snapshot.problem;

          function element(tag, className, content) {
            const node = document.createElement(tag);
            if (className) node.className = className;
            if (content) node.textContent = content;
            return node;
          }

          function age() {
            if (!usable()) return "离线数据未同步";
            const minutes = Math.max(0, Math.floor((Date.now() / 1000 - snapshot.iat) / 60));
            return "数据同步于 " + (minutes < 60 ? minutes + " 分钟前" : Math.floor(minutes / 60) + " 小时前");
          }

          async function showStatus() {
            const count = database ? await request(database.transaction("queue").objectStore("queue").count()) : 0;
            syncAge.textContent = age();
            status.dataset.state = usable() ? "ready" : snapshot ? snapshot.problem : "none";
            queueCount.textContent = "待上传 " + count + " 条";
            queueCount.dataset.count = String(count);
            status.hidden = false;
          }

          // Fetches the shop snapshot; a shop the bureau stopped (or a signed-out device) loses its offline data.
          async function sync() {
            let response;
            try {
              response = await fetch("/api/v1/shop/snapshot", { credentials: "same-origin", cache: "no-store" });
            } catch (error) {
              return;
            }
            if (response.status === 401 || response.status === 403) {
              snapshot = null;
              await finished(database.transaction("snapshot", "readwrite").objectStore("snapshot").delete("current").transaction);
            } else if (response.ok) {
              const body = await response.json().catch(() => null);
              const opened = body && typeof body.snapshot === "string" ? await offline.open(body.snapshot) : null;
              if (!opened || opened.problem) return;
              await finished(database.transaction("snapshot", "readwrite").objectStore("snapshot").put(body.snapshot, "current").transaction);
              snapshot = opened;
            }
            await showStatus();
          }

          // Sends the queued records, oldest first, in requests nginx and the server accept; keeps any not settled.
          async function upload() {
            if (uploading) return;
            uploading = true;
            try {
              const queued = await request(database.transaction("queue").objectStore("queue").getAll());
              queued.sort((a, b) => (a.verifiedAt < b.verifiedAt ? -1 : a.verifiedAt > b.verifiedAt ? 1 : 0));
              while (queued.length > 0) {
                const batch = [];
                let bytes = 20;
                while (queued.length > 0 && batch.length < uploadRecords && bytes + JSON.stringify(queued[0]).length < uploadBytes) {
                  bytes += JSON.stringify(queued[0]).length + 1;
                  batch.push(queued.shift());
                }
                const response = await fetch("/api/v1/verifications/offline", {
                  method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
                  body: JSON.stringify({ records: batch.map((r) => ({ code: r.code, nonce: r.nonce, verifiedAt: r.verifiedAt, result: r.result })) }),
                });
                if (!response.ok) break;
                const body = await response.json();
                // Accepted, already there, or refused for good (a record the server can never take, such as a time
                // from a clock far ahead): either way it leaves the queue, so "待上传" can reach 0.
                const settled = (Array.isArray(body.results) ? body.results : []).filter((r) => r && (r.status === "accepted" || r.status === "duplicate" || r.status === "rejected"));
                const removing = database.transaction("queue", "readwrite");
                for (const result of settled) removing.objectStore("queue").delete(String(result.nonce));
                await finished(removing);
              }
            } catch (error) {
              // Out of reach again: the records stay queued for the next try.
            } finally {
              uploading = false;
              await showStatus();
            }
          }

          // Remembers a use the server just accepted, so this device refuses the same code offline afterwards.
          async function rememberUse(code) {
            const claims = offline.peek(code);
            if (!claims || !usable()) return;
            const used = offline.useOf(claims, Date.now(), snapshot.leeway);
            await finished(database.transaction("uses", "readwrite").objectStore("uses").put(used).transaction);
          }

          // Today's answer from the server through the no-JS form route: "answered" once shown; "lost" when the
          // request or its reply failed or the server answered 5xx, "timeout" after `patience` ms without an answer.
          // The nonce makes asking again safe: the server answers a nonce it has seen with its first answer.
          async function verifyOnline(code, nonce, retried, patience) {
            const abort = new AbortController();
            const timer = setTimeout(() => abort.abort(), patience);
            let response, page;
            try {
              response = await fetch("/shop/verify", {
                method: "POST", credentials: "same-origin", signal: abort.signal, body: new URLSearchParams({ csrf: csrf.value, code, nonce }),
              });
              page = new DOMParser().parseFromString(await response.text(), "text/html");
            } catch (error) {
              return abort.signal.aborted ? "timeout" : "lost";
            } finally {
              clearTimeout(timer);
            }
            const fresh = page.getElementById("answer"), token = page.querySelector("input[name=csrf]");
            if (fresh) {
              answer.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
              if (token) csrf.value = token.value;
              if (fresh.querySelector(".result.valid, .result.notice")) await rememberUse(code).catch(() => {});
              return "answered";
            }
            if (response.status >= 500) return "lost";
            if (response.status === 403 && !retried && token === null) {
              // An expired CSRF cookie: a fresh page brings a new one, then try once more.
              const again = await fetch("/shop", { credentials: "same-origin" }).then((r) => r.text()).catch(() => "");
              const field = new DOMParser().parseFromString(again, "text/html").querySelector("#verify-form input[name=csrf]");
              if (field) {
                csrf.value = field.value;
                return verifyOnline(code, nonce, true, patience);
              }
            }
            location.assign("/shop");
            return "answered";
          }

          // The offline verdict; a valid code uses up its use on this device in the same transaction that queues the record.
          async function verifyOffline(code) {
            const now = Date.now();
            let verdict = await offline.check(code, snapshot, now);
            const record = { code, nonce: "off-" + crypto.randomUUID(), verifiedAt: new Date(now).toISOString(), result: "valid" };
            const transaction = database.transaction(["uses", "queue"], "readwrite");
            if (verdict.reason === null) {
              const seen = await request(transaction.objectStore("uses").get(verdict.use.key));
              if (seen && seen.until * 1000 > now) verdict = { reason: "already_used_here", claims: verdict.claims };
              else transaction.objectStore("uses").put(verdict.use);
            }
            if (verdict.reason === null) {
              // The shop's rules: which benefit this holder gets here today, once-a-day ones counted on this device.
              const used = new Set();
              for (const key of benefits.benefitKeys(verdict.claims, snapshot, now)) {
                const given = await request(transaction.objectStore("uses").get(key));
                if (given && given.until * 1000 > now) used.add(key);
              }
              verdict.benefit = benefits.benefitOf(verdict.claims, snapshot, now, used);
              if (verdict.benefit.grant) transaction.objectStore("uses").put(verdict.benefit.grant);
            }
            record.result = verdict.reason || "valid";
            // Without a usable snapshot nothing was checked, so there is nothing to report (as `yongjun shop verify`).
            if (verdict.reason !== "sync_required" && utf8Length(code) <= longestRecord) {
              transaction.objectStore("queue").put(record);
            }
            await finished(transaction);
            show(verdict);
            await showStatus();
          }

          const utf8Length = (value) => new TextEncoder().encode(value).length;

          function show(verdict) {
            const valid = verdict.reason === null;
            // A genuine card the shop's rules do not cover is not green, as online.
            const eligible = !valid || !verdict.benefit || verdict.benefit.eligible;
            const box = element("div", "result " + (valid ? (eligible ? "valid" : "notice") : "invalid"));
            box.setAttribute("role", "status");
            box.dataset.offline = "true";
            box.dataset.reason = verdict.reason || (eligible ? "valid" : "not_eligible_here");
            box.append(element("div", null, valid ? (eligible ? "✓ 有效 · 请核对优待证" : "证件有效 · 本店优惠不适用") : "✗ " + offline.headline(verdict)));
            if (valid && eligible && verdict.benefit && verdict.benefit.benefit) box.append(element("div", "benefit", verdict.benefit.benefit));
            const who = valid ? offline.categoryLabel(verdict.claims.cat) + " · " + verdict.claims.name : "";
            const detail = valid ? (eligible ? who : who + " · " + offline.message({ reason: "not_eligible_here" })) : offline.message(verdict);
            box.append(element("div", "detail", detail), element("div", "badge", "离线核验 · " + age()));
            answer.replaceChildren(box);
          }

          form.addEventListener("submit", async (event) => {
            if (!database) return; // IndexedDB not open (yet): the form posts as it does without JavaScript.
            event.preventDefault();
            const code = input.value.trim();
            if (!code || busy) return;
            busy = true;
            try {
              const nonce = "till-" + crypto.randomUUID();
              let outcome = navigator.onLine ? await verifyOnline(code, nonce, false, 8000) : "offline";
              // A weak signal can lose the answer after the server recorded the verification: asked again with the same
              // nonce, the server gives that answer again instead of "already used". Not after a timeout: the cashier
              // would wait twice, and the device can answer offline.
              if (outcome === "lost" && navigator.onLine) outcome = await verifyOnline(code, nonce, false, 5000);
              if (outcome !== "answered") await verifyOffline(code);
              // The server answered again after an outage the browser did not notice (no "online" event).
              else if (queueCount.dataset.count !== "0") upload();
            } finally {
              busy = false;
              input.value = "";
              input.focus();
            }
          });

          function whenOnline() {
            sync().then(upload, upload);
          }

          open().then(async (opened) => {
            database = opened;
            const stored = await request(database.transaction("snapshot").objectStore("snapshot").get("current"));
            snapshot = stored ? await offline.open(stored) : null;
            const pruning = database.transaction("uses", "readwrite").objectStore("uses");
            pruning.getAll().onsuccess = (e) => e.target.result.forEach((u) => { if (u.until * 1000 < Date.now()) pruning.delete(u.key); });
            await showStatus();
            window.addEventListener("online", whenOnline);
            window.addEventListener("offline", showStatus);
            setInterval(showStatus, 30000);
            setInterval(() => { if (navigator.onLine) whenOnline(); }, 300000);
            if (navigator.onLine) whenOnline();
          });
        })();
        """#
}
