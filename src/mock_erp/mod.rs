//! mock_erp
