"""One module per fault kind, each registering itself with ``@register``; every module here
is imported by ``fracas.harness.faults``. An HTTP fault action needs no file here: its kind
is built from the action (``fracas.harness.faults.action_kinds``); a file here named after
an action overrides that.
"""
