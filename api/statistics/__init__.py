"""Statistics (统计): the platform's figures and the units' tables rolled up."""
