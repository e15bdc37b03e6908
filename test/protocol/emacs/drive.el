;;; drive.el --- Drives Portolan's language server from a real Emacs with Eglot (test/protocol/emacs.test.ts)  -*- lexical-binding: t -*-
;;
;; Started as `emacs --batch -Q -l drive.el' inside a temporary git repository (the project Eglot
;; finds through project.el), with:
;;   PORTOLAN_NODE, PORTOLAN_SERVER  the command that starts the server (node, server/out/server.js)
;;   PORTOLAN_ROOT                   the workspace (a git repository)
;;   PORTOLAN_FILE                   the file to open, relative to the root
;;   PORTOLAN_OUT                    where to write what Emacs saw, as JSON
;; The configuration is the README's: a major mode for sshd_config and an `eglot-server-programs'
;; entry; the session starts with M-x eglot.  The JSON is rewritten after every step, so a run cut
;; short still tells how far it got.

(require 'package)
(package-initialize)                    ; Debian's elpa-eglot and its dependencies
(require 'eglot)
(require 'json)
(require 'flymake)

(defvar portolan-result (list :steps nil))
(defvar portolan-published (make-hash-table :test 'equal)
  "uri -> the diagnostics of the last publishDiagnostics for it, as the server sent them.")

(defun portolan-published-now ()
  "What has been published so far, uri -> diagnostics (an alist, a JSON object)."
  (let (pairs)
    (maphash (lambda (k v) (push (cons k v) pairs)) portolan-published)
    (or pairs (make-hash-table))))

(defun portolan-save ()
  (with-temp-file (getenv "PORTOLAN_OUT")
    (let ((json-encoding-pretty-print nil))
      (insert (json-encode (append portolan-result (list :published (portolan-published-now))))))))

(defun portolan-put (key value)
  (setq portolan-result (plist-put portolan-result key value))
  (portolan-save))

(defun portolan-step (name)
  (portolan-put :steps (vconcat (plist-get portolan-result :steps) (list name))))

(defun portolan-wait (pred seconds)
  "Let Emacs read the server until PRED holds or SECONDS pass; t when PRED held."
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (and (funcall pred) t)))

;; Every publishDiagnostics, also for files Emacs never visited, before Eglot's own handler.
(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (when (eq method 'textDocument/publishDiagnostics)
                (puthash (plist-get params :uri) (plist-get params :diagnostics) portolan-published))))

;; The README's setup.
(define-derived-mode sshd-config-mode conf-space-mode "sshd_config")
(add-to-list 'auto-mode-alist '("/sshd_config\\(\\.d/[^/]*\\.conf\\)?\\'" . sshd-config-mode))
(add-to-list 'eglot-server-programs
             `((sshd-config-mode conf-unix-mode yaml-mode) . (,(getenv "PORTOLAN_NODE") ,(getenv "PORTOLAN_SERVER") "--stdio")))

(defun portolan-codes (uri)
  (sort (mapcar (lambda (d) (plist-get d :code)) (append (gethash uri portolan-published) nil)) #'string<))

(defun portolan-flymake ()
  "The buffer's diagnostics as Flymake holds them (what the user sees)."
  (vconcat
   (mapcar (lambda (d)
             (let ((beg (flymake-diagnostic-beg d)) (end (flymake-diagnostic-end d)))
               (list :type (symbol-name (flymake-diagnostic-type d))
                     :text (flymake-diagnostic-text d)
                     :line (line-number-at-pos beg)
                     :column (save-excursion (goto-char beg) (current-column))
                     :endLine (line-number-at-pos end)
                     :endColumn (save-excursion (goto-char end) (current-column)))))
           (sort (flymake-diagnostics) (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))))

(defun portolan-run ()
  (let* ((root (file-name-as-directory (getenv "PORTOLAN_ROOT")))
         (file (expand-file-name (getenv "PORTOLAN_FILE") root))
         (compose (eglot--path-to-uri (expand-file-name "compose.yaml" root)))
         (nginx (eglot--path-to-uri (expand-file-name "etc/nginx/nginx.conf" root))))
    (find-file file)
    (portolan-put :mode (symbol-name major-mode))
    (portolan-put :uri (eglot--path-to-uri file))
    (call-interactively #'eglot)        ; M-x eglot, as a user starts it
    ;; `eglot-sync-connect' (3 s by default) lets M-x eglot return before the server has answered
    ;; initialize, which a loaded machine can take longer than; a user sees the connection come up later.
    (portolan-put :waitedForConnection (portolan-wait #'eglot-current-server 30))
    (let ((server (eglot-current-server)))
      (portolan-put :serverPid (process-id (jsonrpc--process server)))
      (portolan-put :projectRoot (project-root (eglot--project server)))
      (portolan-step "started")
      (portolan-put :waitedForDiagnostics
                    (portolan-wait (lambda () (and (gethash (eglot--path-to-uri file) portolan-published)
                                                   (member "port-conflict" (portolan-codes compose))
                                                   (member "port-conflict" (portolan-codes nginx))))
                                   20))
      ;; Flymake runs Eglot's backend on its own timers: wait until it shows them.
      (portolan-put :waitedForFlymake (portolan-wait (lambda () (>= (length (flymake-diagnostics)) 2)) 20))
      (portolan-put :flymake (portolan-flymake))
      ;; Eglot files diagnostics of unvisited files for M-x flymake-show-project-diagnostics.
      (portolan-put :unvisited
                    (vconcat (mapcar (lambda (entry) (list :path (car entry) :count (length (cdr entry))))
                                     (and (boundp 'flymake-list-only-diagnostics) flymake-list-only-diagnostics))))
      (portolan-put :composeVisited (and (find-buffer-visiting (expand-file-name "compose.yaml" root)) t))
      (portolan-put :before (portolan-published-now))
      (portolan-step "diagnostics")
      ;; Hover the second line's port, as eldoc / M-x eglot-help-at-point ask it.
      (goto-char (point-min))
      (forward-line 1)
      (forward-char 6)
      (portolan-put :hover (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams)))
      (portolan-step "hover")
      ;; Fix the invalid port as a user types it: Eglot sends didChange; invalid-port goes away.
      (goto-char (point-min))
      (search-forward "70000")
      (replace-match "2222")
      ;; Eglot sends the change from an idle timer; batch Emacs is never idle, so send it as that timer would.
      (eglot--signal-textDocument/didChange)
      (portolan-put :waitedForEdit
                    (portolan-wait (lambda () (equal (portolan-codes (eglot--path-to-uri file)) '("ephemeral-port"))) 20))
      (portolan-put :waitedForFlymakeAfterEdit (portolan-wait (lambda () (= (length (flymake-diagnostics)) 1)) 20))
      (portolan-put :flymakeAfterEdit (portolan-flymake))
      (portolan-step "edited")
      (eglot-shutdown server)
      (portolan-put :serverRunning (jsonrpc-running-p server))
      (portolan-step "done"))))

(condition-case err
    (portolan-run)
  (error (portolan-put :error (format "%S" err))))
(kill-emacs 0)
;;; drive.el ends here
