"""integrations/nhsa"""
