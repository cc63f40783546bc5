#!/usr/bin/env python3
"""Writes a cardholders CSV with N made-up holders (valid GB 11643 check digits) to stdout."""
import random
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "建国军华明伟强海峰平志勇文辉刚红英兰秀芳"
CATEGORIES = ["veteran", "退役军人", "military_family", "martyr_family", "active_duty", "其他优抚对象"]


def id_number(rng):
    base = "441882" + f"{rng.randint(1940, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + f"{rng.randint(0, 999):03d}"
    return base + CHECK[sum(int(d) * w for d, w in zip(base, WEIGHTS)) % 11]


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rng = random.Random(9359)
    print("card_no,name,id_number,category,valid_until,phone")
    for n in range(1, count + 1):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        phone = f"13{rng.randint(0, 999999999):09d}" if n % 3 else ""
        print(f"LZ{n:07d},{name},{id_number(rng)},{rng.choice(CATEGORIES)},2031-12-31,{phone}")


if __name__ == "__main__":
    main()
