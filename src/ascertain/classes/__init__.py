"""Class ascertainment: registrations, linkage, §§411(a)/412 eligibility, class criteria, sampling, lookup.

Reads works, evidence and registrations from the case store; nothing below it imports it.
"""
