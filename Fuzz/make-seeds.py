#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each harness into corpus/<harness>/seed-*.

Run from anywhere: python3 Fuzz/make-seeds.py. Needs the `cryptography` package (scripts/test installs it) to
sign the valid codes with the harness's fixed keys. The fuzzer's own finds sit beside these, named by hash.
"""
import base64
import json
import pathlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def write(harness, name, data):
    folder = CORPUS / harness
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- FuzzCode: the same fixed keys as Sources/FuzzCode/FuzzCode.swift ---
KEYS = {seed: (f"k2026111{7 + seed}-fuzz0{seed}", Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)) for seed in (1, 2)}
NOW = 1_795_000_100


def claims(**changes):
    value = {"iss": "yongjun", "sub": "card-abc", "jti": "ABCDEFGHJKMNPQRS", "iat": NOW - 60, "nbf": NOW - 60,
             "exp": NOW + 120, "cat": "veteran", "name": "张*三"}
    value.update(changes)
    return json.dumps({k: v for k, v in sorted(value.items()) if v is not None}, ensure_ascii=False, separators=(",", ":")).encode()


def token(payload, seed=1, header=None):
    kid, key = KEYS[seed]
    header = header or json.dumps({"alg": "EdDSA", "kid": kid, "typ": "JWT"}, separators=(",", ":")).encode()
    signing_input = b64(header) + "." + b64(payload)
    return signing_input + "." + b64(key.sign(signing_input.encode()))


write("code", "token-valid", b"\x00" + token(claims()).encode())
write("code", "token-second-key", b"\x00" + token(claims(cat="martyr_family"), seed=2).encode())
write("code", "token-printed-credential", b"\x00" + token(claims(exp=NOW + 5 * 365 * 86_400)).encode())
write("code", "token-unknown-kid", b"\x00" + token(claims(), header=b'{"alg":"EdDSA","kid":"k20200101-gone00"}').encode())
write("code", "token-crit", b"\x00" + token(claims(), header=b'{"alg":"EdDSA","kid":"k20261118-fuzz01","crit":["exp"]}').encode())
write("code", "token-alg-none", b"\x00" + token(claims(), header=b'{"alg":"none","kid":"k20261118-fuzz01"}').rsplit(".", 1)[0].encode() + b".")
write("code", "token-shapes", b"\x00a.b.c")
write("code", "claims-valid", b"\x01" + claims())
write("code", "claims-second-key", b"\x05" + claims(cat="active_duty"))
write("code", "claims-expired", b"\x01" + claims(iat=NOW - 600, nbf=NOW - 600, exp=NOW - 400))
write("code", "claims-not-yet-valid", b"\x01" + claims(nbf=NOW + 600, exp=NOW + 900))
write("code", "claims-printed", b"\x01" + claims(iat=NOW - 86_400 * 30, exp=NOW + 86_400 * 365 * 3))
write("code", "claims-nbf-after-exp", b"\x01" + claims(nbf=NOW + 10, exp=NOW))
write("code", "claims-wide-times", b"\x01" + claims(iat=-4_000_000_000_000_000_000, nbf=-9_000_000_000, exp=4_000_000_000_000_000_000))
write("code", "claims-other-issuer", b"\x01" + claims(iss="someone-else"))
write("code", "claims-unknown-category", b"\x01" + claims(cat="general"))
write("code", "claims-missing-jti", b"\x01" + claims(jti=None))
write("code", "claims-float-exp", b"\x01" + claims().replace(b'"exp":', b'"exp":1.5e3,"x":'))
write("code", "header-and-claims", b"\x02" + b'{"alg":"EdDSA","kid":"k20261118-fuzz01"}\x00' + claims())
for name, times in [("current", (NOW - 60, NOW - 60, NOW + 120)), ("printed", (NOW, NOW, NOW + 3 * 365 * 86_400)),
                    ("expired", (NOW - 900, NOW - 900, NOW - 700))]:
    write("code", f"times-{name}", b"\x03" + b"".join(t.to_bytes(8, "little", signed=True) for t in times) + "张*三".encode())

# --- FuzzImport: first byte 0 = detect, 1 = UTF-8, 2 = GB18030 ---
def id_number(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def credit_code(first17):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(first17, weights)) % 31) % 31
    return first17 + alphabet[check]


assert credit_code("91350100M000100Y4") == "91350100M000100Y43"
cards_en = ("card_no,name,id_number,category,valid_until,phone\n"
            f"YD-0001,张三,{id_number('44078319800101001')},veteran,2030-12-31,13800138000\n"
            f"YD-0002,\"李,四\",{id_number('44078319750615002')},退役军人,2029-01-01,\n"
            f"YD-0003,王五,{id_number('11010519491231002')},martyr_family,2031-06-30,0763-1234567\n")
cards_zh = ("\ufeff优待证号,姓名,身份证号,类别,有效期至,手机号\r\n"
            f"YD-0101,赵六,{id_number('44078319900202003')},军属,2030-01-01,13912345678\r\n"
            ",,,,,\r\n"
            f"YD-0102,\"钱 \"\"七\"\"\",{id_number('44078319850303004')},现役军人,2028-12-31,\r\n")
apps_en = ("shop_name,credit_code,industry,address,contact,phone,benefit\n"
           f"老王修车,{credit_code('91441800MA4UL0001')},vehicle_repair,清远市清城区1号,王师傅,13800138001,凭优待证享9折\n"
           f"\"好味, 餐厅\",{credit_code('91441800MA4UL0002')},餐饮,\"清远市\n人民路2号\",李经理,0763-7654321,\"满100减20\"\n")
apps_zh = ("门店名称,统一社会信用代码,行业,地址,联系人,联系电话,优惠内容,备注\n"
           f"百货店,{credit_code('91441800MA4UL0003')},日用百货,清城区3号,陈女士,13700137000,9折,新店\n")
for name, text in [("cards-en", cards_en), ("cards-zh-bom-crlf", cards_zh), ("apps-en", apps_en), ("apps-zh", apps_zh)]:
    write("import", name + "-utf8", b"\x01" + text.encode("utf-8"))
write("import", "cards-zh-gb18030", b"\x02" + cards_zh.replace("\ufeff", "").encode("gb18030"))
write("import", "apps-zh-gb18030-detected", b"\x00" + apps_zh.encode("gb18030"))
write("import", "gb18030-four-byte", b"\x02" + "姓名,𠀀,€,\u00e9\n".encode("gb18030"))
write("import", "csv-quote-errors", b"\x01" + b'a,b"c\n"unclosed')
write("import", "csv-text-after-quote", b"\x01" + b'"a"b,c\r\n')
write("import", "cards-duplicate", b"\x01" + (cards_en + cards_en.splitlines(True)[1]).encode())
write("import", "cards-header-only", b"\x01" + b"card_no,name,id_number,category,valid_until\n")
write("import", "cards-header-twice", b"\x01" + "card_no,优待证号,name,id_number,category,valid_until\n".encode())

# --- FuzzVerifyRequest ---
bodies = [
    '{"code":"abc.def-_.ghi"}', '{ "code" : "abc" , "nonce" : "till-1" }', '{"nonce":"n","code":"c"}',
    '{\n\t"code": "x"\r\n}', '{"code":"a\\"b"}', '{"code":"\\u0041"}', '{"code":"张三"}', '{"code":"x","extra":1}',
    '{"code":"x","code":"y"}', '{"code":"x"} trailing', '{"code":"x",}', '{"nonce":"only"}', '{"code":42}',
    '["code"]', '{"code":"123456789","nonce":null}', '{"code":"' + token(claims()) + '","nonce":"9f1c2e"}',
]
for index, body in enumerate(bodies):
    write("verify-request", f"body-{index:02d}", body)

# --- FuzzForm ---
forms = [
    "csrf=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG0&code=ABCD-EFGH-JKLM&pin=123456",
    "shop_name=%E8%80%81%E7%8E%8B%E4%BF%AE%E8%BD%A6&credit_code=91350100M000100Y43&industry=vehicle_repair"
    "&address=%E6%B8%85%E5%9F%8E%E5%8C%BA+1%E5%8F%B7&contact=%E7%8E%8B&phone=13800138000&benefit=9%E6%8A%98&csrf=x",
    "code=123456789&csrf=abc", "a=1&a=2&&=x&flag", "pin=%zz&bad=%E5%BC&plus=a+b%2Bc",
]
for index, body in enumerate(forms):
    write("form", f"body-{index:02d}", body)

# --- FuzzQR: first byte is the level, 0 low … 3 high ---
texts = [token(claims()), "123456789", "https://yongjun.example/card", "一城百店齐拥军 优待证", "A",
         "x" * 300, "0123456789" * 60]
for index, text in enumerate(texts):
    write("qr", f"text-{index:02d}", bytes([index % 4]) + text.encode())
# The largest versions, which the mutator seldom grows to: byte-mode capacity at version 40 is 2,953 bytes at L and
# 1,273 at H; one byte more is refused.
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
for level, length in [(0, 1000), (1, 1800), (0, 2953), (0, 2954), (3, 1273), (3, 1274)]:
    write("qr", f"long-{level}-{length}", bytes([level]) + "".join(alphabet[(i * 7 + length) % 65] for i in range(length)).encode())

# --- Dictionaries (libFuzzer format): words the mutator splices in; bytes outside printable ASCII escaped ---
def dictionary(harness, words):
    def quoted(word):
        data = word.encode() if isinstance(word, str) else word
        return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and chr(b) not in '"\\' else f"\\x{b:02X}" for b in data) + '"'
    folder = CORPUS.parent / "dict"
    folder.mkdir(exist_ok=True)
    (folder / f"{harness}.dict").write_text("".join(quoted(word) + "\n" for word in words))


dictionary("code", ['"iss"', '"sub"', '"jti"', '"iat"', '"nbf"', '"exp"', '"cat"', '"name"', '"yongjun"', '"veteran"',
                    '"alg"', '"kid"', '"crit"', '"EdDSA"', '"k20261118-fuzz01"', "9223372036854775807",
                    "-9223372036854775808", "1795000100", "e308", "null", "true", "\\u0000", "."])
dictionary("import", ["card_no", "id_number", "valid_until", "shop_name", "credit_code", "industry", "benefit",
                      "优待证号", "姓名", "身份证号", "类别", "有效期至", "手机号", "门店名称", "统一社会信用代码", "行业",
                      "联系电话", "优惠内容", "veteran", "退役军人", "catering", "餐饮", "2030-12-31", '""', '","',
                      "\r\n", "\ufeff", "\u3000", b"\x81\x30\x81\x30", b"\xa1\xa1"])
dictionary("verify-request", ['"code"', '"nonce"', '":"', '","', "\\u0000", "\\ud83d\\ude00", '\\"', "null", "[]", "{}"])
dictionary("form", ["%", "%E5%BC%A0", "%zz", "+", "&", "=", "csrf", "%00", "%25", "%2B"])
