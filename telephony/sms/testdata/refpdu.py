#!/usr/bin/python3
"""An independent SMS PDU encoder for callbox's tests (standard library only).

Written from 3GPP TS 23.038 and 23.040, not from the Go code: reads a JSON
list of {"number", "text", "ref", "report", "time"} on stdin and prints, for
each, the SMS-SUBMIT PDUs (as AT+CMGS takes them, "00" SMSC first) and the
SMS-DELIVER PDUs a service centre would send for the same text.
"""
import json
import sys
from datetime import datetime

BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
         "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
EXT = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
       "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}
assert len(BASIC) == 128


def septets_of(ch):
    if ch in EXT:
        return [0x1B, EXT[ch]]
    i = BASIC.find(ch)
    if i < 0 or ch == "\x1b":
        return None
    return [i]


def units_of(ch):
    return len(ch.encode("utf-16-be")) // 2


def split(text):
    gsm = all(septets_of(c) is not None for c in text)
    cost = (lambda c: len(septets_of(c))) if gsm else units_of
    single, multi = (160, 153) if gsm else (70, 67)
    if sum(cost(c) for c in text) <= single:
        return gsm, [text]
    parts, cur, used = [], "", 0
    for c in text:
        if used + cost(c) > multi:
            parts.append(cur)
            cur, used = "", 0
        cur += c
        used += cost(c)
    parts.append(cur)
    return gsm, parts


def pack7(header, septets):
    """User data: the header octets, fill bits, then septets LSB first."""
    hs = (len(header) * 8 + 6) // 7
    bits = 0
    nbits = hs * 7
    for i, s in enumerate(septets):
        bits |= s << (nbits + 7 * i)
    total = hs + len(septets)
    n = (total * 7 + 7) // 8
    out = bytearray(bits.to_bytes(n, "little"))
    out[:len(header)] = header
    return total, bytes(out)


def address(number):
    toa = 0x81
    if number.startswith("+"):
        toa, number = 0x91, number[1:]
    padded = number + ("F" if len(number) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return bytes([len(number), toa]) + bytes.fromhex(swapped)


def user_data(gsm, part, header):
    if gsm:
        sep = [s for c in part for s in septets_of(c)]
        udl, ud = pack7(header, sep)
        return bytes([udl]) + ud
    ud = header + part.encode("utf-16-be")
    return bytes([len(ud)]) + ud


def bcd(n):
    return ((n % 10) << 4) | (n // 10)


def scts(t):
    q = int(t.utcoffset().total_seconds() // 900)
    tz = bcd(abs(q)) | (0x08 if q < 0 else 0)
    return bytes([bcd(t.year % 100), bcd(t.month), bcd(t.day), bcd(t.hour),
                  bcd(t.minute), bcd(t.second), tz])


def encode(case):
    gsm, parts = split(case["text"])
    dcs = 0x00 if gsm else 0x08
    submit, deliver = [], []
    t = datetime.fromisoformat(case["time"])
    for i, part in enumerate(parts):
        header = b""
        if len(parts) > 1:
            header = bytes([5, 0, 3, case["ref"], len(parts), i + 1])
        first = 0x11 | (0x40 if header else 0) | (0x20 if case["report"] else 0)
        tpdu = bytes([first, 0]) + address(case["number"]) + bytes([0, dcs, 167]) + user_data(gsm, part, header)
        submit.append({"hex": "00" + tpdu.hex().upper(), "len": len(tpdu)})
        first = 0x04 | (0x40 if header else 0)
        tpdu = bytes([first]) + address(case["number"]) + bytes([0, dcs]) + scts(t) + user_data(gsm, part, header)
        deliver.append("00" + tpdu.hex().upper())
    return {"coding": "gsm7" if gsm else "ucs2", "parts": parts, "submit": submit, "deliver": deliver}


json.dump([encode(c) for c in json.load(sys.stdin)], sys.stdout, ensure_ascii=False)
