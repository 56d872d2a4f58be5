# A developer's machine: code reloads on save, everything logged to the terminal.
reload = True
reload_extra_files = ["templates/*.html"]
loglevel = "debug"
accesslog = "-"
capture_output = True
workers = 1
timeout = 0
