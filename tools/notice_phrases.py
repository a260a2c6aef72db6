#!/usr/bin/env python3
"""Writes templates/notice/phrases.txt: every English phrase the notice composes through Tr("...")
in src/policy/notice_*.cc, one per line, sorted, as a words.yaml translates them
(docs/NOTICE-TEMPLATES.md). NoticeTemplates.PhrasesListEveryPhraseOfTheCode keeps it true.

Usage: tools/notice_phrases.py   (from the repository root)
"""
import glob
import re

RUN = re.compile(r'\bTr\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)')
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unescape(text):
    return text.replace('\\"', '"').replace("\\\\", "\\")


phrases = set()
for path in sorted(glob.glob("src/policy/notice_*.cc")):
    with open(path, encoding="utf-8") as source:
        for run in RUN.finditer(source.read()):
            phrases.add("".join(unescape(part) for part in LITERAL.findall(run.group(1))))
with open("templates/notice/phrases.txt", "w", encoding="utf-8") as out:
    for phrase in sorted(phrases):
        out.write(phrase + "\n")
print(f"{len(phrases)} phrases")
