"""Service plans: recurring billing, one cycle per plan and period."""
