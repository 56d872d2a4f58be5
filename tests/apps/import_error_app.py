"""An app module that fails at import time (the lifecycle tests expect a clean startup failure)."""


class ImportTimeBoom(RuntimeError):
    pass


raise ImportTimeBoom("import_error_app refuses to import")
