"""Publishing releases to web hosts: a consistent read-only snapshot of the archive and its
index, sent with rsync to each host's publish directory and switched atomically there.

``layout`` (the publish directory, shared with the web front end), ``release`` (staging one
release on the indexing host), ``replicas`` (the steps on one web host, local or over ssh),
``publisher`` (the whole run: ``publish()``).
"""
