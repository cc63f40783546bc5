/// Static files the pages link to, compiled in.
enum Assets {
    /// Served at /assets/site.css (no inline styles, so the CSP can stay strict).
    static let css = """
        :root{--ink:#111;--paper:#fff;--accent:#b3001b;--ok:#0a6b2d;--bad:#b3001b}
        *{box-sizing:border-box}body{margin:0;font:20px/1.6 system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;color:var(--ink);background:var(--paper)}
        header{background:var(--accent);color:#fff;padding:14px 18px;font-size:22px;font-weight:700}
        main{max-width:560px;margin:0 auto;padding:18px}
        h1{font-size:28px;margin:8px 0 16px}
        label{display:block;font-weight:700;margin:14px 0 6px}
        input,select,textarea{width:100%;font-size:22px;padding:14px;border:2px solid #333;border-radius:8px}
        button,.button{display:block;width:100%;margin:20px 0;padding:16px;font-size:24px;font-weight:700;color:#fff;background:var(--accent);border:0;border-radius:10px;text-align:center;text-decoration:none}
        .error{background:#fde8ea;border:2px solid var(--bad);padding:12px;border-radius:8px;font-weight:700}
        .note{color:#333;font-size:18px}
        .nowrap{white-space:nowrap}
        .big{font-size:40px;font-weight:800;letter-spacing:4px;text-align:center}
        .qr svg{width:100%;height:auto;max-width:360px;display:block;margin:0 auto}
        .result{min-height:45vh;display:flex;flex-direction:column;justify-content:center;padding:28px 18px;border-radius:14px;color:#fff;text-align:center;font-size:34px;font-weight:800;margin-bottom:16px}
        .valid{background:var(--ok)}.invalid{background:var(--bad)}.notice{background:#7a4b00}
        .benefit{font-size:44px;font-weight:900;margin:12px 0;padding:10px;border:4px solid #fff;border-radius:12px}
        ul.shops{list-style:none;padding:0}ul.shops li{border-bottom:1px solid #ccc;padding:12px 0}
        nav a{display:inline-block;margin:4px 8px 4px 0;padding:8px 12px;border:2px solid #333;border-radius:8px;color:var(--ink);text-decoration:none}
        nav a.current{background:#111;color:#fff}
        .center{text-align:center}.secondary{background:#555}.detail{font-size:24px;font-weight:600}
        .badge{align-self:center;margin-top:14px;padding:4px 14px;border:2px solid #fff;border-radius:8px;font-size:20px;font-weight:700}
        """

    /// Served at /assets/card.js: counts down and reloads the code page before the code expires.
    static let cardScript = """
        (function () {
          var el = document.getElementById("left");
          if (!el) return;
          var left = parseInt(el.getAttribute("data-left"), 10);
          setInterval(function () {
            left -= 1;
            if (left <= 15) { location.reload(); return; }
            el.textContent = left;
          }, 1000);
        })();
        """

    /// Served at /shop/sw.js (scope /shop): keeps the cashier page and its assets so /shop opens without a network.
    static let shopServiceWorker = #"""
        // The cashier page's Service Worker: the page and its assets come from the network when it answers, else from
        // the copy kept at the last visit, so /shop opens without a network.
        "use strict";
        const shell = "yongjun-shop-v1";
        const kept = ["/shop", "/assets/site.css", "/assets/offline-verify.js", "/assets/offline-benefit.js", "/assets/shop.js"];

        self.addEventListener("install", (event) => {
          event.waitUntil(caches.open(shell).then((cache) => cache.addAll(kept)).then(() => self.skipWaiting()));
        });

        self.addEventListener("activate", (event) => {
          const old = (names) => Promise.all(names.filter((name) => name !== shell).map((name) => caches.delete(name)));
          event.waitUntil(caches.keys().then(old).then(() => self.clients.claim()));
        });

        self.addEventListener("fetch", (event) => {
          const url = new URL(event.request.url);
          if (event.request.method !== "GET" || url.origin !== self.location.origin || url.search || !kept.includes(url.pathname)) return;
          event.respondWith(fromNetworkElseKept(event.request, url.pathname));
        });

        // The network's answer (kept for next time), or the kept copy when the network fails or takes over 5 seconds.
        async function fromNetworkElseKept(request, path) {
          const cache = await caches.open(shell);
          const network = fetch(request).then(async (response) => {
            if (response.ok && response.type === "basic") await cache.put(path, response.clone());
            return response;
          });
          network.catch(() => {});
          const slow = new Promise((resolve, reject) => setTimeout(() => reject(new Error("slow")), 5000));
          try {
            return await Promise.race([network, slow]);
          } catch (error) {
            const copy = await cache.match(path);
            if (copy) return copy;
            return network;
          }
        }
        """#
}
