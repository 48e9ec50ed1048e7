"""An archive of past submissions, so that a scan checks new submissions against earlier
terms without comparing the earlier terms again.

:mod:`.store` (the backend interface and locations), :mod:`.local` (the default: a folder
of append-only shards; :mod:`.topk` its search's running best), :mod:`.milvus` (Milvus,
embedded or a server), :mod:`.encoder` (which encoder made the embeddings), :mod:`.add`
(``archive add``), :mod:`.matching` (the scan's pairs with the archive), :mod:`.info` and
:mod:`.command` (the CLI). docs/SCAN.md describes it.
"""
