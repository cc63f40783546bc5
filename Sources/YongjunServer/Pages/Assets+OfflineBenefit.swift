extension Assets {
    /// Served at /assets/offline-benefit.js: the shop's benefit rules from the snapshot, applied as BenefitRule.decide
    /// does on the server and in the kit, for a code offline-verify.js found valid.
    static let offlineBenefitScript = #"""
        (function (global) {
          "use strict";
          const chinaOffset = 8 * 3600;
          const isString = (value) => typeof value === "string";

          // BenefitRule.decide, as the server and the kit apply it: the first of the shop's rules (from the snapshot) that
          // covers the category today and whose once-a-day limit this device has not used (`used` holds the keys of
          // benefitKey). A shop without rules gives its 优惠内容 to everyone.
          function benefitOf(claims, snapshot, nowMillis, used) {
            const shop = snapshot.shop || {};
            const rules = Array.isArray(shop.rules) ? shop.rules : [];
            if (rules.length === 0) return { eligible: true, benefit: isString(shop.benefit) ? shop.benefit : null };
            const dayNumber = Math.floor((Math.floor(nowMillis / 1000) + chinaOffset) / 86400);
            const day = new Date(dayNumber * 86400000).toISOString().slice(0, 10);
            const weekday = ((((dayNumber % 7) + 7) % 7) + 3) % 7 + 1;
            for (let index = 0; index < rules.length; index++) {
              const rule = rules[index] || {};
              if (Array.isArray(rule.categories) && !rule.categories.includes(claims.cat)) continue;
              if (Array.isArray(rule.weekdays) && !rule.weekdays.includes(weekday)) continue;
              if (isString(rule.validFrom) && day < rule.validFrom) continue;
              if (isString(rule.validUntil) && rule.validUntil < day) continue;
              const key = benefitKey(claims, index, day);
              if (rule.oncePerDay === true && used.has(key)) continue;
              const until = (dayNumber + 1) * 86400 - chinaOffset;
              return { eligible: true, benefit: isString(rule.benefit) ? rule.benefit : null, grant: rule.oncePerDay === true ? { key, until } : null };
            }
            return { eligible: false };
          }

          // What a once-a-day benefit given to this card under this rule on this China day is remembered by.
          function benefitKey(claims, index, day) {
            return "benefit:" + claims.sub + ":" + index + ":" + day;
          }

          // The once-a-day keys a verdict could hit today, to look up before `benefitOf`.
          function benefitKeys(claims, snapshot, nowMillis) {
            const rules = snapshot.shop && Array.isArray(snapshot.shop.rules) ? snapshot.shop.rules : [];
            const day = new Date(Math.floor((Math.floor(nowMillis / 1000) + chinaOffset) / 86400) * 86400000).toISOString().slice(0, 10);
            return rules.flatMap((rule, index) => (rule && rule.oncePerDay === true ? [benefitKey(claims, index, day)] : []));
          }

          global.YongjunBenefit = { benefitOf, benefitKeys };
        })(self);
        """#
}
