"""Complaint-handling portal (客户投诉处理门户) for an insurance company."""
