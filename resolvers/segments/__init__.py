"""Segments for internal tools: the facts kept per profile (:mod:`.facts`), the filters
over them (:mod:`.filters`) and ``customerSegment`` (:mod:`.query`). See docs/segments.md."""
