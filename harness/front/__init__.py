"""How people drive fracas: the ``fracas`` command, the pytest plugin, the checks
made before anything starts, and errors that mean the user gave something wrong."""
