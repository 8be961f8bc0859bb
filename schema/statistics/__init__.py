"""Statistics (统计与分析) over the monthly aggregates and the compliance cycle."""
