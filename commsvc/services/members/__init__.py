"""The members wing: who the members are and what they chose.

records (validation and the member's JSON), upsert, listing, importer (CSV),
preferences (choices and consent), subject_rights (export, erasure), suppression,
organisation (regions, branches, employers, partnerships, topics).
"""
