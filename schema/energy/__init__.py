"""Energy records and emission factors (碳排放转换规则)."""
