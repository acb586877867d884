# `make lab` starts JupyterLab with this file (--config): every notebook is saved without its outputs
# (kpi.lab.strip_outputs), so running notebooks/explore.ipynb never leaves outputs in the tracked file.
c = get_config()  # noqa: F821 (given by Jupyter when it reads this file)
c.ContentsManager.pre_save_hook = "kpi.lab.strip_outputs"
