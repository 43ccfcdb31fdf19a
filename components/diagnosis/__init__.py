"""Example pipeline: predict a tumour's diagnosis (malignant/benign) from cell measurements."""
