"""Friendly error pages in the visitor's language; JSON for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from surveyapp.db import get_session
from surveyapp.services.errors import N_, ServiceError

logger = logging.getLogger(__name__)

MESSAGES = {
    400: (
        N_("Yêu cầu không hợp lệ"),
        N_("Trình duyệt đã gửi dữ liệu không hợp lệ. Vui lòng thử lại."),
    ),
    401: (N_("Cần đăng nhập"), N_("Vui lòng đăng nhập để tiếp tục.")),
    403: (N_("Không có quyền truy cập"), N_("Bạn không có quyền xem trang này.")),
    404: (N_("Không tìm thấy trang"), N_("Địa chỉ này không tồn tại hoặc đã ngừng sử dụng.")),
    405: (N_("Thao tác không được hỗ trợ"), N_("Trang này không nhận thao tác vừa gửi.")),
    409: (N_("Xung đột dữ liệu"), N_("Dữ liệu vừa được một yêu cầu khác thay đổi; hãy thử lại.")),
    410: (N_("Không còn sử dụng"), N_("Nội dung này không còn nhận đánh giá.")),
    413: (N_("Dữ liệu quá lớn"), N_("Dữ liệu gửi lên vượt quá giới hạn cho phép.")),
    422: (N_("Dữ liệu chưa hợp lệ"), N_("Vui lòng kiểm tra lại thông tin đã nhập.")),
    429: (N_("Quá nhiều yêu cầu"), N_("Vui lòng đợi một lát rồi thử lại.")),
    500: (N_("Lỗi hệ thống"), N_("Đã có lỗi xảy ra. Chúng tôi đã ghi nhận; vui lòng thử lại sau.")),
}


def render_error(code: int, message: str | None = None) -> tuple[Any, int]:
    title, default = MESSAGES.get(code, MESSAGES[500])
    text = message or gettext(default)
    if request.path.startswith("/api/"):
        return jsonify(error={"code": code, "message": text}), code
    # A signed-in official keeps the dashboard's menu on its 4xx pages (not on a 5xx: the
    # menu reads the database, which may be what failed).
    in_dashboard = (
        code < 500 and request.path.startswith("/dashboard") and current_user.is_authenticated
    )
    page = render_template(
        "errors/error.html",
        code=code,
        title=gettext(title),
        message=text,
        in_dashboard=in_dashboard,
    )
    return page, code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> ResponseReturnValue:
        get_session().rollback()
        return render_error(error.status_code, error.render(gettext))

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> ResponseReturnValue:
        return render_error(
            400, gettext("Phiên làm việc đã hết hạn. Vui lòng tải lại trang và thử lại.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> ResponseReturnValue:
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
        get_session().rollback()
        return render_error(500)
