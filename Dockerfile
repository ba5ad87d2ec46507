FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY commsvc ./commsvc
COPY workers ./workers
COPY templates ./templates
COPY translations ./translations
COPY migrations ./migrations
COPY bench ./bench
RUN pip install --no-cache-dir -e . && useradd --create-home commsvc && mkdir -p /app/instance \
    && chown commsvc /app/instance
USER commsvc
ENV COMMSVC_INSTANCE_PATH=/app/instance
EXPOSE 5000
CMD ["commsvc", "web", "--host", "0.0.0.0", "--port", "5000"]
