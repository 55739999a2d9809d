import matplotlib

matplotlib.use("Agg")

from theorycheck.properties import profiles  # noqa: E402

profiles.load()
