"""The keyed exchange for a neutral expert (Rule 53), one module a step (docs/methods.md, "Keyed exchange").

keys.py      the master makes the case key and a key check the parties can compare
textless.py  what may leave the defendant: every value of an index file checked against what a keyed,
             text-less index holds (keyed digests and locators, numbers), refusing anything else
package.py   the defendant's export of a keyed source (one tar) and the master's validated import
request.py   the master's production request: keyed locators of the matching documents, authenticated
produce.py   the defendant resolves the keyed locators to its own documents and writes exactly those
"""
